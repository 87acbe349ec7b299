import { useAtomValue } from 'jotai';
import { estimateAtom, runActiveAtom, runAtom, runErrorAtom } from '../atoms/run.ts';

/** The Run bar: cost and available credits before anything is spent, then Run or Cancel. */
export function RunBar(props: { readonly onRun: () => void; readonly onCancel: () => void }) {
  const estimate = useAtomValue(estimateAtom);
  const run = useAtomValue(runAtom);
  const active = useAtomValue(runActiveAtom);
  const error = useAtomValue(runErrorAtom);
  const short = estimate !== null && !estimate.enough;
  return (
    <section className="run-bar" aria-label="Run">
      <span className="run-bar__cost" data-testid="estimate">
        {estimate === null ? 'Estimating…' : `Estimated cost: ${estimate.total} credits`}
      </span>
      <span className="run-bar__balance" data-testid="available">
        {estimate === null
          ? ''
          : `Available: ${estimate.available === null ? 'unlimited' : estimate.available} credits`}
      </span>
      <span className="run-bar__status" aria-live="polite" data-testid="run-phase" data-phase={run.phase}>
        {run.phase === 'idle' ? '' : `Run ${run.phase}`}
        {run.phase === 'completed' && ` · charged ${run.captured} credits`}
      </span>
      {active ? (
        <button
          type="button"
          className="button button--danger"
          onClick={props.onCancel}
          disabled={run.runId === null}
        >
          Cancel
        </button>
      ) : (
        <button
          type="button"
          className="button button--primary"
          onClick={props.onRun}
          disabled={estimate === null || short}
        >
          {estimate === null ? 'Run' : `Run · ${estimate.total} credits`}
        </button>
      )}
      {short && (
        <p className="run-bar__error" role="alert">
          Not enough credits: this graph needs {estimate.total} and {estimate.available} are available. Pick a
          shorter video or wait for your monthly renewal.
        </p>
      )}
      {error && (
        <p className="run-bar__error" role="alert">
          {error}
        </p>
      )}
      {run.error && (
        <p className="run-bar__error" role="alert">
          {run.error}
        </p>
      )}
    </section>
  );
}

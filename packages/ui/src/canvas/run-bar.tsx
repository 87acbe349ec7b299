import { useAtomValue } from 'jotai';
import { useT } from '../atoms/language.ts';
import { estimateAtom, runActiveAtom, runAtom, runErrorAtom, runRefusedAtom } from '../atoms/run.ts';
import { awaitingPromptAtom, localIssuesAtom } from './canvas-atoms.ts';

/** The Run bar: cost and available credits before anything is spent, then Run or Cancel. */
export function RunBar(props: { readonly onRun: () => void; readonly onCancel: () => void }) {
  const estimate = useAtomValue(estimateAtom);
  const run = useAtomValue(runAtom);
  const active = useAtomValue(runActiveAtom);
  const error = useAtomValue(runErrorAtom);
  const refused = useAtomValue(runRefusedAtom);
  const short = estimate !== null && !estimate.enough;
  const issues = useAtomValue(localIssuesAtom);
  const invalid = issues.length > 0;
  const awaiting = useAtomValue(awaitingPromptAtom).length > 0;
  const t = useT();
  // Settled: the first estimate arrived, or the bar says why there is none (a bench waits for it).
  const settled = estimate !== null || invalid || error !== null || refused !== null;
  return (
    <section className="run-bar" aria-label={t('run.region')} data-settled={settled ? 'true' : 'false'}>
      <span className="run-bar__cost" data-testid="estimate">
        {estimate === null ? t('run.estimating') : t('run.estimate', { credits: estimate.total })}
      </span>
      <span className="run-bar__balance" data-testid="available">
        {estimate === null
          ? ''
          : t('run.available', {
              credits: estimate.available === null ? t('run.unlimited') : estimate.available,
            })}
      </span>
      <span className="run-bar__status" aria-live="polite" data-testid="run-phase" data-phase={run.phase}>
        {run.phase === 'idle' ? '' : t('run.phase', { phase: t(`phase.${run.phase}`) })}
        {run.phase === 'completed' && t('run.charged', { credits: run.captured })}
      </span>
      {active ? (
        <button
          type="button"
          className="button button--danger"
          onClick={props.onCancel}
          disabled={run.runId === null}
        >
          {t('run.cancel')}
        </button>
      ) : (
        <button
          type="button"
          className="button button--primary"
          onClick={props.onRun}
          disabled={estimate === null || short || invalid || awaiting}
        >
          {estimate === null ? t('run.run') : t('run.runCost', { credits: estimate.total })}
        </button>
      )}
      {invalid && (
        <p className="run-bar__error" role="alert" data-testid="run-invalid">
          {t('run.invalid', { count: issues.length })}
        </p>
      )}
      {awaiting && !invalid && !active && (
        <p className="run-bar__hint" data-testid="run-awaiting">
          {t('run.awaitingPrompt')}
        </p>
      )}
      {short && (
        <p className="run-bar__error" role="alert">
          {t('run.short', { needed: estimate.total, available: estimate.available ?? 0 })}
        </p>
      )}
      {error && (
        <p className="run-bar__error" role="alert">
          {error}
        </p>
      )}
      {refused && refused !== error && (
        <p className="run-bar__error" role="alert" data-testid="run-refused">
          {refused}
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

import { atom } from 'jotai';
import type { Content, CostEstimate } from '../api/api-types.ts';
import type { WorkflowGraphInput } from '../graph/graph-types.ts';
import { IDLE_RUN, type RunState } from '../run/run-state.ts';
import { graphAtom } from './graph.ts';

/** The run shown on the canvas. */
export const runAtom = atom<RunState>(IDLE_RUN);

/**
 * The run the canvas's graph started (from Run or a rerun that sent it): a rerun of that run sends
 * the canvas's graph, so settings changed since run again. Null after a reload, when the canvas
 * shows the default graph rather than the one of the run it follows (which a rerun then reuses).
 */
export const canvasRunIdAtom = atom<string | null>(null);

/** The content the finished run produced (its media links), once recorded. */
export const contentAtom = atom<Content | null>(null);

/** The graph's cost and the credits available, from `POST /api/workflow/estimate`. */
export const estimateAtom = atom<CostEstimate | null>(null);

/** Why the graph cannot be estimated, in plain words (set and cleared by each estimate). */
export const runErrorAtom = atom<string | null>(null);

/** A Run or rerun the server refused: why, in plain words, and the canvas's graph when it did. */
export interface RunRefusal {
  readonly message: string;
  readonly graph: WorkflowGraphInput;
}

/**
 * The last refusal of a Run or rerun. Apart from the estimate's error: an estimate of the same graph
 * answering after the refusal (its debounce started before the click) must not hide it.
 */
export const runRefusalAtom = atom<RunRefusal | null>(null);

/** Why the last Run was refused, while the canvas still holds the graph it refused (null once edited). */
export const runRefusedAtom = atom((get) => {
  const refusal = get(runRefusalAtom);
  return refusal !== null && refusal.graph === get(graphAtom) ? refusal.message : null;
});

/** Whether a run is under way (buttons and the panel lock while it is). */
export const runActiveAtom = atom((get) => {
  const phase = get(runAtom).phase;
  return phase === 'starting' || phase === 'queued' || phase === 'running';
});

/** The content of the run shown (never a previous run's, while the next one's is not recorded yet). */
export const runContentAtom = atom((get) => {
  const content = get(contentAtom);
  return content !== null && content.runId === get(runAtom).runId ? content : null;
});

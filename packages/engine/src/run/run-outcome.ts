import type { EngineError } from '../errors/engine-error.ts';

/** What a run charged, in credits. */
export interface RunCost {
  /** The estimate for the nodes this run had to execute. */
  readonly estimated: number;
  /** The credit hold placed. */
  readonly reserved: number;
  /** Captured for nodes that succeeded (across resumes). */
  readonly captured: number;
  /** Returned to the balance when the run ended. */
  readonly released: number;
  /** Not spent thanks to cached or reused outputs. */
  readonly saved: number;
}

interface OutcomeBase {
  readonly runId: string;
  /** Outputs of the nodes that completed, by node id. */
  readonly outputs: Readonly<Record<string, unknown>>;
  readonly cost: RunCost;
}

/** How a run ended: a union discriminated by `status`. */
export type RunOutcome =
  | (OutcomeBase & { readonly status: 'completed' })
  | (OutcomeBase & { readonly status: 'failed'; readonly error: EngineError; readonly nodeId?: string })
  | (OutcomeBase & { readonly status: 'cancelled'; readonly reason: string });

import { NonRetryableError } from '@vidgenie/engine';
import type { HoldState } from '../db/schema.ts';

/**
 * The error that stops a run whose credit hold was resolved (released, or expired by the sweeper
 * while the run was still alive) before one of its nodes could be charged: no more work without a
 * hold to pay for it.
 * @internal
 */
export function holdResolvedError(
  runId: string,
  nodeId: string,
  state: Exclude<HoldState, 'pending'>,
): NonRetryableError {
  return new NonRetryableError(
    `The credit hold of run ${runId} was ${state} before node ${nodeId} could be charged; the run stops.`,
  );
}

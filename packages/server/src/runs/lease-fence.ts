import { StaleFenceError } from '@vidgenie/engine';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { DB } from '../db/schema.ts';

/**
 * The fencing token a worker writes under: the run and the lease epoch it acquired. A write made
 * under a fence changes nothing once another worker has taken the run's lease (the epoch moved).
 */
export interface LeaseFence {
  readonly runId: string;
  readonly epoch: number;
}

/**
 * The SQL condition a fenced write adds to its `where`: `and exists (… lease_epoch = epoch)`, or
 * nothing without a fence.
 * @internal
 */
export function fenceCondition(fence: LeaseFence | undefined): RawBuilder<unknown> {
  return fence === undefined
    ? sql``
    : sql`and exists (select 1 from runs where runs.id = ${fence.runId} and runs.lease_epoch = ${fence.epoch})`;
}

/**
 * Throws `StaleFenceError` (code `STALE_FENCE`) when the run's lease epoch is no longer the fence's:
 * how a fenced write that changed nothing explains itself.
 * @internal
 */
export async function assertFence(db: Kysely<DB>, fence: LeaseFence | undefined): Promise<void> {
  if (fence === undefined) return;
  const row = await db
    .selectFrom('runs')
    .select('lease_epoch')
    .where('id', '=', fence.runId)
    .executeTakeFirst();
  if (row === undefined || row.lease_epoch !== fence.epoch) {
    throw new StaleFenceError({ runId: fence.runId, fence: fence.epoch, current: row?.lease_epoch ?? 0 });
  }
}

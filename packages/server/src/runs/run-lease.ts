import { type Kysely, sql } from 'kysely';
import { prepared } from '../db/prepared-statements.ts';
import type { DB } from '../db/schema.ts';
import type { LeaseFence } from './lease-fence.ts';
import type { RunQueueJob } from './run-queue.ts';

/** What the executor needs of a run it just leased, read in the lease's statement. */
export interface LeasedRun {
  /** The graph stored with the run. */
  readonly graph: Record<string, unknown>;
  /** The credit hold placed when the run was accepted (null for a free run). */
  readonly holdId: string | null;
  /** A rerun's earlier run and the node it reruns from. */
  readonly parentRunId: string | null;
  readonly rerunFrom: string | null;
  /** The run's last stored event (`seq` 0 and type null: none yet). */
  readonly lastSeq: number;
  readonly lastType: string | null;
  /** Whether the engine has a checkpoint of the run: it resumes rather than starts. */
  readonly checkpointed: boolean;
  /** The credits estimated when the run was accepted. */
  readonly estimatedCost: number;
  /** When the run was accepted. */
  readonly createdAt: Date;
  /** When the run first started (now, if this lease starts it). */
  readonly startedAt: Date;
}

/** What {@link acquireRunLease} found. */
export type LeaseAcquisition =
  | {
      readonly kind: 'acquired';
      readonly fence: LeaseFence;
      readonly userId: string;
      /** A cancel asked before the lease was taken: the run should stop at once. */
      readonly cancelRequested: string | null;
      readonly run: LeasedRun;
    }
  /** Another worker holds a live lease on the run. */
  | { readonly kind: 'held' }
  /** The owner already has `perUserLimit` runs going: try again later. */
  | { readonly kind: 'user-limit' }
  /** No such run, or it has ended. */
  | { readonly kind: 'finished' };

/** Arguments of {@link acquireRunLease}. */
export interface AcquireRunLeaseArgs {
  readonly runId: string;
  /** The worker taking the run. */
  readonly owner: string;
  readonly ttlMs: number;
  /** Runs of one user leased at once across every worker; undefined: no check (one process). */
  readonly perUserLimit?: number;
  /** The run's `started_at` when it starts now. */
  readonly now: Date;
}

const interval = (ms: number) => sql`make_interval(secs => ${ms / 1000}::double precision)`;

/**
 * Takes a run's lease in one statement (the `vidgenie_acquire_run_lease` function of migration
 * 0013): the lease is free (never taken, or lapsed by the database clock), the run is unfinished
 * and, with `perUserLimit`, its owner has fewer live leases than that (counted under a per-user
 * advisory lock, so two workers cannot both take the fifth slot). The epoch (fencing token) goes
 * up by one; the run becomes `running`.
 *
 * The same statement reads what the executor needs next ({@link LeasedRun}), one round trip
 * instead of three. It reads them in the statement's snapshot, taken before the function's
 * update: the columns it reads from `runs` never change after the insert (but `started_at`, which
 * the function sets when null: the read gives the value it sets), and a previous holder's
 * late event or checkpoint would be as late for a read after the commit (its writes are fenced by
 * the epoch; events lost meanwhile are stored again from the checkpoint, see the executor).
 * @internal
 */
export async function acquireRunLease(db: Kysely<DB>, args: AcquireRunLeaseArgs): Promise<LeaseAcquisition> {
  const [acquisition] = await acquireRunLeases(db, [args]);
  if (acquisition === undefined) throw new Error(`acquiring the lease of run ${args.runId} answered nothing`);
  return acquisition;
}

/**
 * {@link acquireRunLease} for several runs in one statement (a burst of runs starting at once),
 * one answer per request, in order. Each acquisition is the function's call as alone: a later one
 * sees the earlier ones' leases (the function's queries take fresh snapshots), so a run asked for
 * twice is `held` the second time and a user's limit counts the runs leased before in the batch.
 * The calls go in the order of `userId` where given, so that batches made at once take their
 * owners' advisory locks in one order. Should two still deadlock, the statement fails as a whole
 * and leases nothing.
 * @internal
 */
export async function acquireRunLeases(
  db: Kysely<DB>,
  requests: readonly (AcquireRunLeaseArgs & { readonly userId?: string })[],
): Promise<LeaseAcquisition[]> {
  if (requests.length === 0) return [];
  const column = <T>(pick: (request: (typeof requests)[number]) => T) => requests.map(pick);
  const { rows } = await sql<{
    ord: string;
    outcome: 'acquired' | 'held' | 'user-limit' | 'finished';
    epoch: number | null;
    owner_user_id: string | null;
    cancel_reason: string | null;
    graph: Record<string, unknown> | null;
    hold_id: string | null;
    parent_run_id: string | null;
    rerun_from: string | null;
    last_seq: number | null;
    last_type: string | null;
    checkpointed: boolean | null;
    estimated_cost: number | null;
    created_at: Date | null;
    started_at: Date | null;
  }>`${prepared('runs.acquire-leases')}
     with q as (
       select * from unnest(
         ${column((r) => r.runId)}::text[], ${column((r) => r.owner)}::text[],
         ${column((r) => r.ttlMs)}::double precision[], ${column((r) => r.perUserLimit ?? null)}::integer[],
         ${column((r) => r.now.toISOString())}::timestamptz[], ${column((r) => r.userId ?? '')}::text[]
       ) with ordinality as q(run_id, owner, ttl_ms, per_user_limit, at, user_id, ord)
       order by q.user_id, q.ord
     ), l as materialized (
       select q.ord, q.run_id, q.at, l.outcome, l.epoch, l.owner_user_id, l.cancel_reason
         from q cross join lateral vidgenie_acquire_run_lease(q.run_id, q.owner, q.ttl_ms, q.per_user_limit, q.at) l
     )
     select l.ord, l.outcome, l.epoch, l.owner_user_id, l.cancel_reason,
            r.graph, r.hold_id, r.parent_run_id, r.rerun_from, last.seq as last_seq, last.type as last_type,
            r.estimated_cost, r.created_at, coalesce(r.started_at, l.at) as started_at,
            exists (select 1 from run_checkpoints c where c.run_id = r.id) as checkpointed
       from l
       left join runs r on l.outcome = 'acquired' and r.id = l.run_id
       left join lateral (
         select e.seq, e.type from run_events e where e.run_id = r.id order by e.seq desc limit 1
       ) last on true`.execute(db);
  const byOrd = new Map(rows.map((row) => [Number(row.ord), row]));
  return requests.map((request, i): LeaseAcquisition => {
    const row = byOrd.get(i + 1);
    if (row === undefined) throw new Error(`acquiring the lease of run ${request.runId} answered nothing`);
    if (row.outcome !== 'acquired') return { kind: row.outcome };
    if (
      row.epoch === null ||
      row.owner_user_id === null ||
      row.graph === null ||
      row.estimated_cost === null ||
      row.created_at === null ||
      row.started_at === null
    )
      throw new Error(`acquiring the lease of run ${request.runId} answered no epoch, owner or run row`);
    return {
      kind: 'acquired',
      fence: { runId: request.runId, epoch: row.epoch },
      userId: row.owner_user_id,
      cancelRequested: row.cancel_reason,
      run: {
        graph: row.graph,
        holdId: row.hold_id,
        parentRunId: row.parent_run_id,
        rerunFrom: row.rerun_from,
        lastSeq: row.last_seq ?? 0,
        lastType: row.last_type,
        checkpointed: row.checkpointed === true,
        estimatedCost: row.estimated_cost,
        createdAt: new Date(row.created_at),
        startedAt: new Date(row.started_at),
      },
    };
  });
}

/** What a heartbeat found for one run. */
export type LeaseRenewal =
  | { readonly held: true; readonly cancelRequested: string | null }
  | { readonly held: false };

/**
 * Extends the leases of many runs (a worker's heartbeat) by `ttlMs` from the database clock, in
 * one statement: each only while its epoch is still the fence's, the owner is `owner` and the run
 * unfinished. Every fence gets an answer: `held: false` means another worker took the run (or it
 * ended); stop writing.
 * @internal
 */
export async function renewRunLeases(
  db: Kysely<DB>,
  args: { readonly fences: readonly LeaseFence[]; readonly owner: string; readonly ttlMs: number },
): Promise<Map<string, LeaseRenewal>> {
  const renewals = new Map<string, LeaseRenewal>();
  if (args.fences.length === 0) return renewals;
  const leases = sql.join(args.fences.map((fence) => sql`(${fence.runId}, ${fence.epoch}::integer)`));
  const { rows } = await sql<{ id: string; cancel_requested: string | null }>`
    update runs set lease_expires_at = now() + ${interval(args.ttlMs)}
      from (values ${leases}) as held(id, epoch)
     where runs.id = held.id and runs.lease_epoch = held.epoch and runs.lease_owner = ${args.owner}
       and runs.status in ('queued', 'running')
    returning runs.id, runs.cancel_requested`.execute(db);
  for (const fence of args.fences) renewals.set(fence.runId, { held: false });
  for (const row of rows) renewals.set(row.id, { held: true, cancelRequested: row.cancel_requested });
  return renewals;
}

/**
 * Gives a lease up (graceful shutdown): the run stays unfinished and any worker may take it at
 * once. Changes nothing once the epoch has moved.
 * @internal
 */
export async function giveUpRunLease(db: Kysely<DB>, fence: LeaseFence): Promise<void> {
  await db
    .updateTable('runs')
    .set({ lease_owner: null, lease_expires_at: null })
    .where('id', '=', fence.runId)
    .where('lease_epoch', '=', fence.epoch)
    .execute();
}

/**
 * Marks runs whose lease is free or lapsed, and that were not handed to an executor (accepted, or
 * sent to the queue) in the last `redispatchAfterMs`, as dispatched now, and returns their ids: the
 * runs to send to the queue again (a worker died holding them, or the process that accepted them
 * died before sending or leasing them).
 * Several workers may sweep at once: each run is returned to one of them.
 * @internal
 */
export async function sweepLapsedLeases(
  db: Kysely<DB>,
  args: { readonly redispatchAfterMs: number; readonly limit?: number },
): Promise<RunQueueJob[]> {
  const { rows } = await sql<{ id: string; user_id: string }>`
    update runs set dispatched_at = now()
     where id in (
       select id from runs
        where status in ('queued', 'running')
          and (lease_expires_at is null or lease_expires_at <= now())
          and (dispatched_at is null or dispatched_at <= now() - ${interval(args.redispatchAfterMs)})
        order by created_at
        limit ${args.limit ?? 100}
        for update skip locked)
    returning id, user_id`.execute(db);
  return rows.map((row) => ({ runId: row.id, userId: row.user_id }));
}

/**
 * Records that a run was sent to the queue now (so the sweep leaves it alone for a while).
 * @internal
 */
export async function markDispatched(db: Kysely<DB>, runId: string): Promise<void> {
  await sql`update runs set dispatched_at = now() where id = ${runId}`.execute(db);
}

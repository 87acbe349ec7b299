import type { NodeRecord } from '@vidgenie/engine';
import { type Kysely, sql } from 'kysely';
import { prepared } from '../db/prepared-statements.ts';
import type { DB } from '../db/schema.ts';
import { newId } from '../ids/new-id.ts';
import { entryKeys } from '../ledger/entry-keys.ts';
import { retryTransient } from '../ledger/retry-transient.ts';

/** The charge made with a node's save: its capture from the run's credit hold. */
export interface NodeCapture {
  readonly holdId: string;
  /** Credits to charge (at least 1). */
  readonly amount: number;
  /** When the charge was made: stamps the ledger entry and counts towards that UTC day's cap. */
  readonly at: Date;
}

/** One node checkpoint to save under its run's fences, and the charge that goes with it, if any. */
export interface NodeSave {
  readonly runId: string;
  /** The engine's fence: the run row's `fence` must equal it. */
  readonly fence: number;
  /** The lease epoch the write is made under (distributed workers), or null without a lease. */
  readonly epoch: number | null;
  readonly seq: number;
  readonly node: NodeRecord;
  /** Set for a paid node's success: the record is saved only with this charge. */
  readonly capture?: NodeCapture;
}

/** Saves node checkpoints of many runs together: see {@link createNodeSaveBatcher}. */
export interface NodeSaveBatcher {
  /**
   * Saves a node's record (with its charge) if the run's fence (and lease epoch) are the writer's,
   * and the charge can be made. Resolves true once written, false when the fenced update or the
   * charge matched nothing (the caller explains why); rejects when the database refused it.
   */
  save(write: NodeSave): Promise<boolean>;
}

/** One node row of {@link saveNodeRows}: its record already as JSON, its charge as columns. */
export interface NodeSaveRow {
  readonly runId: string;
  readonly fence: number;
  readonly epoch: number | null;
  readonly seq: number;
  readonly nodeId: string;
  readonly status: string;
  readonly record: string;
  /** The charge's hold, amount, ledger entry id and key, and time; all null without a charge. */
  readonly holdId: string | null;
  readonly amount: number | null;
  readonly entryId: string | null;
  readonly entryKey: string | null;
  readonly at: string | null;
}

/**
 * Saves node checkpoints of several runs (at most one per run) in one statement, each with its
 * charge when it has one, and returns the runs whose save was written.
 *
 * Each row's run update, under the engine's fence and the lease epoch, feeds the rest, so a stale
 * writer changes nothing, and the run row's lock orders the write against claims. A row with a
 * charge then captures it as the ledger's capture does (the hold, while pending with room and this
 * node not yet charged; a `credit_captures` row; the account; a `capture` entry) and its node is
 * saved only when it was. The charges of one user add up on the account's row, and each entry
 * carries the balance after it, in row order. The SQL checkpoint store's `saveNode` and
 * `commitNode` are this statement with one row.
 * @internal
 */
export async function saveNodeRows(db: Kysely<DB>, rows: readonly NodeSaveRow[]): Promise<Set<string>> {
  const column = <T>(pick: (row: NodeSaveRow) => T) => rows.map(pick);
  const { rows: written } = await sql<{ run_id: string }>`${prepared('checkpoint.save-nodes')}
    with input as (
      select * from unnest(
        ${column((r) => r.runId)}::text[], ${column((r) => r.fence)}::integer[],
        ${column((r) => r.epoch)}::integer[], ${column((r) => r.seq)}::integer[],
        ${column((r) => r.nodeId)}::text[], ${column((r) => r.status)}::text[],
        ${column((r) => r.record)}::text[], ${column((r) => r.holdId)}::text[],
        ${column((r) => r.amount)}::integer[], ${column((r) => r.entryId)}::text[],
        ${column((r) => r.entryKey)}::text[], ${column((r) => r.at)}::timestamptz[]
      ) with ordinality
        as i(run_id, fence, epoch, seq, node_id, status, record, hold_id, amount, entry_id, entry_key, at, ord)
    ), run as (
      update run_checkpoints c
         set last_seq = greatest(c.last_seq, i.seq), updated_at = now()
        from input i
       where c.run_id = i.run_id and c.fence = i.fence
         and (i.epoch is null
              or exists (select 1 from runs r where r.id = i.run_id and r.lease_epoch = i.epoch))
      returning c.run_id
    ), hold as (
      update credit_holds h
         set captured = h.captured + i.amount
        from input i join run on run.run_id = i.run_id
       where h.id = i.hold_id
         and h.state = 'pending'
         and h.captured + i.amount <= h.amount
         and not exists (
           select 1 from credit_captures cc where cc.hold_id = i.hold_id and cc.node_id = i.node_id
         )
      returning h.id, h.user_id, h.run_id as hold_run_id, i.run_id, i.node_id, i.amount, i.entry_id,
                i.entry_key, i.at, i.ord
    ), node_capture as (
      insert into credit_captures (hold_id, node_id, amount, created_at)
      select id, node_id, amount, at from hold
    ), charge as (
      select user_id, sum(amount)::integer as total, max(at) as at from hold group by user_id
    ), account as (
      update credit_accounts a
         set balance = a.balance - c.total,
             held = a.held - c.total,
             updated_at = c.at,
             -- Today's captures (UTC), for the daily cap checked by reserve.
             captured_today = case
               when a.captured_day = (c.at at time zone 'UTC')::date then a.captured_today + c.total
               when a.captured_day is null or a.captured_day < (c.at at time zone 'UTC')::date
                 then c.total
               else a.captured_today
             end,
             captured_day = greatest(a.captured_day, (c.at at time zone 'UTC')::date)
        from charge c
       where a.user_id = c.user_id
      returning a.user_id, a.balance, a.held
    ), entry as (
      insert into ledger_entries (id, user_id, kind, balance_delta, held_delta, balance_after, held_after,
                                  reason, run_id, node_id, hold_id, idempotency_key, created_at)
      select h.entry_id, a.user_id, 'capture', -h.amount, -h.amount,
             a.balance + coalesce(sum(h.amount) over later, 0),
             a.held + coalesce(sum(h.amount) over later, 0),
             'Node ' || h.node_id, h.hold_run_id, h.node_id, h.id, h.entry_key, h.at
        from hold h join account a on a.user_id = h.user_id
      window later as (partition by h.user_id order by h.ord rows between 1 following and unbounded following)
       -- In row order, so the entries' seq follows the balance they carry.
       order by h.ord
    )
    insert into node_checkpoints (run_id, node_id, status, record, seq, updated_at)
    select i.run_id, i.node_id, i.status, i.record::json, i.seq, now()
      from input i join run on run.run_id = i.run_id
     where i.hold_id is null or exists (select 1 from hold where hold.run_id = i.run_id)
    on conflict (run_id, node_id) do update
       set status = excluded.status, record = excluded.record, seq = excluded.seq,
           updated_at = excluded.updated_at
    returning run_id`.execute(db);
  return new Set(written.map((row) => row.run_id));
}

/**
 * Saves node rows as {@link saveNodeRows} does, again when the database reports a deadlock, a
 * serialization failure or a unique violation (a concurrent duplicate charge: the retry finds it
 * made, and leaves the row unwritten for the caller to explain).
 * @internal
 */
export function saveNodeRowsRetrying(db: Kysely<DB>, rows: readonly NodeSaveRow[]): Promise<Set<string>> {
  return retryTransient(() => saveNodeRows(db, rows), { onUniqueViolation: true });
}

/** A save as the row {@link saveNodeRows} writes: the record as JSON, taken now. */
export function nodeSaveRow({ runId, fence, epoch, seq, node, capture }: NodeSave): NodeSaveRow {
  return {
    runId,
    fence,
    epoch,
    seq,
    nodeId: node.nodeId,
    status: node.status,
    record: JSON.stringify(node),
    holdId: capture?.holdId ?? null,
    amount: capture?.amount ?? null,
    entryId: capture === undefined ? null : newId('led'),
    entryKey: capture === undefined ? null : entryKeys.capture(capture.holdId, node.nodeId),
    at: capture?.at.toISOString() ?? null,
  };
}

/** A save waiting in the batcher. */
interface Waiting extends NodeSaveRow {
  readonly resolve: (written: boolean) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * A group commit of node checkpoints and the charges made with them: the saves handed in while a
 * statement is in flight go together in the next {@link saveNodeRows}, one statement at a time, on
 * `db` (give it a connection of its own, so that running runs' checkpoints never queue behind
 * requests for the shared pool). Nothing waits when idle: a lone save goes at once. A statement
 * holds at most one save per run, so one run's saves commit in the order made. When a shared
 * statement fails, each save is tried on its own, so one bad record fails only its own save.
 * @internal
 */
export function createNodeSaveBatcher(options: { readonly db: Kysely<DB> }): NodeSaveBatcher {
  const { db } = options;
  let queue: Waiting[] = [];
  let running = false;

  const write = (batch: readonly Waiting[]) => saveNodeRowsRetrying(db, batch);

  const drain = async () => {
    running = true;
    try {
      while (queue.length > 0) {
        // The first save of each run; a run's later saves wait for the next statement.
        const batch: Waiting[] = [];
        const rest: Waiting[] = [];
        const taken = new Set<string>();
        for (const waiting of queue) {
          if (taken.has(waiting.runId)) rest.push(waiting);
          else {
            taken.add(waiting.runId);
            batch.push(waiting);
          }
        }
        queue = rest;
        try {
          const written = await write(batch);
          for (const waiting of batch) waiting.resolve(written.has(waiting.runId));
        } catch (error) {
          if (batch.length === 1) batch[0]?.reject(error);
          else {
            for (const waiting of batch)
              await write([waiting]).then((written) => waiting.resolve(written.size > 0), waiting.reject);
          }
        }
      }
    } finally {
      running = false;
    }
  };

  return {
    save(save) {
      return new Promise<boolean>((resolve, reject) => {
        queue.push({ ...nodeSaveRow(save), resolve, reject });
        if (!running) void drain();
      });
    },
  };
}

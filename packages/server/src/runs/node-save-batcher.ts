import type { NodeRecord } from '@vidgenie/engine';
import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.ts';

/** One node checkpoint to save under its run's fences. */
export interface NodeSave {
  readonly runId: string;
  /** The engine's fence: the run row's `fence` must equal it. */
  readonly fence: number;
  /** The lease epoch the write is made under (distributed workers), or null without a lease. */
  readonly epoch: number | null;
  readonly seq: number;
  readonly node: NodeRecord;
}

/** Saves node checkpoints of many runs together: see {@link createNodeSaveBatcher}. */
export interface NodeSaveBatcher {
  /**
   * Saves a node's record if the run's fence (and lease epoch) are the writer's. Resolves true
   * once written, false when the fenced update matched nothing (the caller explains why); rejects
   * when the database refused it.
   */
  save(write: NodeSave): Promise<boolean>;
}

/** One node row of {@link saveNodeRows}: its record already as JSON. */
export interface NodeSaveRow {
  readonly runId: string;
  readonly fence: number;
  readonly epoch: number | null;
  readonly seq: number;
  readonly nodeId: string;
  readonly status: string;
  readonly record: string;
}

/**
 * Saves node checkpoints of several runs (at most one per run) in one statement, and returns the
 * runs whose save was written. Each row's run update, under the engine's fence and the lease epoch,
 * feeds its node's upsert, so a stale writer changes neither, and the run row's lock orders the
 * write against claims. The SQL checkpoint store's `saveNode` is this statement with one row.
 * @internal
 */
export async function saveNodeRows(db: Kysely<DB>, rows: readonly NodeSaveRow[]): Promise<Set<string>> {
  const column = <T>(pick: (row: NodeSaveRow) => T) => rows.map(pick);
  const { rows: written } = await sql<{ run_id: string }>`
    with input as (
      select * from unnest(
        ${column((r) => r.runId)}::text[], ${column((r) => r.fence)}::integer[],
        ${column((r) => r.epoch)}::integer[], ${column((r) => r.seq)}::integer[],
        ${column((r) => r.nodeId)}::text[], ${column((r) => r.status)}::text[],
        ${column((r) => r.record)}::text[]
      ) as i(run_id, fence, epoch, seq, node_id, status, record)
    ), run as (
      update run_checkpoints c
         set last_seq = greatest(c.last_seq, i.seq), updated_at = now()
        from input i
       where c.run_id = i.run_id and c.fence = i.fence
         and (i.epoch is null
              or exists (select 1 from runs r where r.id = i.run_id and r.lease_epoch = i.epoch))
      returning c.run_id
    )
    insert into node_checkpoints (run_id, node_id, status, record, seq, updated_at)
    select i.run_id, i.node_id, i.status, i.record::json, i.seq, now()
      from input i join run on run.run_id = i.run_id
    on conflict (run_id, node_id) do update
       set status = excluded.status, record = excluded.record, seq = excluded.seq,
           updated_at = excluded.updated_at
    returning run_id`.execute(db);
  return new Set(written.map((row) => row.run_id));
}

/** A save as the row {@link saveNodeRows} writes: the record as JSON, taken now. */
export function nodeSaveRow({ runId, fence, epoch, seq, node }: NodeSave): NodeSaveRow {
  return { runId, fence, epoch, seq, nodeId: node.nodeId, status: node.status, record: JSON.stringify(node) };
}

/** A save waiting in the batcher. */
interface Waiting extends NodeSaveRow {
  readonly resolve: (written: boolean) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * A group commit of node checkpoints: the saves handed in while a statement is in flight go
 * together in the next {@link saveNodeRows}, one statement at a time, on `db` (give it a
 * connection of its own, so that running runs' checkpoints never queue behind requests for the
 * shared pool). Nothing waits when idle: a lone save goes at once. A statement holds at most one
 * save per run, so one run's saves commit in the order made. When a shared statement fails, each save is tried on
 * its own, so one bad record fails only its own save.
 * @internal
 */
export function createNodeSaveBatcher(options: { readonly db: Kysely<DB> }): NodeSaveBatcher {
  const { db } = options;
  let queue: Waiting[] = [];
  let running = false;

  const write = (batch: readonly Waiting[]) => saveNodeRows(db, batch);

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

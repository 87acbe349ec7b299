import { StaleFenceError } from '@vidgenie/engine';
import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import type { DB } from '../db/schema.ts';
import { assertFence, fenceCondition, type LeaseFence } from './lease-fence.ts';
import type { RunEventBus, StoredRunEvent } from './run-event-bus.ts';
import { isTerminalRunEvent } from './terminal-run-events.ts';

/** Stores one run's events in order and publishes each batch once committed. */
export interface RunEventWriter {
  /** Queues an event (the engine's `onEvent` is synchronous); it is stored in the background. */
  push<E extends { readonly type: string; readonly seq: number }>(event: E): void;
  /** Resolves once every event pushed so far is stored (or given up on, and logged). */
  flush(): Promise<void>;
  /** The highest `seq` pushed. */
  readonly lastSeq: number;
  /** Whether a terminal event (`run.completed`, `run.failed`, `run.cancelled`) was pushed. */
  readonly ended: boolean;
}

/** Attempts at storing a batch (a dropped connection, a failover) before the writer gives up. */
const STORE_ATTEMPTS = 5;

/**
 * An event writer for one run: pushed events are inserted into `run_events` in batches (one
 * statement per batch, one batch at a time, so rows commit in `seq` order), then published on the
 * bus. A `seq` already stored is left alone (`on conflict do nothing`). A failed insert is logged
 * and retried, its events first (a retry after a commit the error hid stores nothing twice); its
 * events are published only once stored: followers never see an event the table does not have.
 * After {@link STORE_ATTEMPTS} failures, or once the run changed hands, the writer stores nothing
 * more: the table and the stream keep a gap-free prefix rather than skip a batch.
 * @internal
 */
export function createRunEventWriter(args: {
  readonly db: Kysely<DB>;
  readonly bus: RunEventBus;
  readonly runId: string;
  readonly log: Logger;
  /** The highest `seq` already stored for the run (0 for a new run). */
  readonly lastSeq?: number;
  /** The worker's lease: once another worker holds the run, events are no longer stored. */
  readonly fence?: LeaseFence;
  /** Postgres channel told the run id after each stored batch (other machines' followers). */
  readonly notifyChannel?: string;
  /**
   * How long the first event of a batch waits for others before the insert (default 0). A few
   * milliseconds turn a node's bursts (progress, capture, completion, the next node's start) into
   * one statement and one NOTIFY; terminal events never wait.
   */
  readonly batchDelayMs?: number;
}): RunEventWriter {
  const { db, bus, runId, log } = args;
  let pending: StoredRunEvent[] = [];
  let lastSeq = args.lastSeq ?? 0;
  let ended = false;
  // `running` is cleared in the same synchronous step as the last emptiness check, so a push can
  // never find a drain that has already decided to stop.
  let running = false;
  let idle: Promise<void> = Promise.resolve();
  /** Set when a batch could not be stored: later events would leave a gap, so they are dropped. */
  let gaveUp = false;

  /**
   * One statement: the batch is inserted only while the lease is ours, and the notify channel
   * hears the run id when anything was. Returns whether a row was inserted.
   */
  const insertFenced = async (batch: readonly StoredRunEvent[]): Promise<boolean> => {
    const rows = sql.join(
      batch.map(
        (event) =>
          sql`(${runId}, ${event.seq}::integer, ${event.type}, ${JSON.stringify(event.payload)}::json)`,
      ),
    );
    const notify =
      args.notifyChannel === undefined
        ? sql`select 1 as notified`
        : sql`select pg_notify(${args.notifyChannel}, ${runId}) is null as notified`;
    const { rows: result } = await sql<{ inserted: number }>`
      with ins as (
        insert into run_events (run_id, seq, type, payload)
        select v.run_id, v.seq, v.type, v.payload
          from (values ${rows}) as v(run_id, seq, type, payload)
         where true ${fenceCondition(args.fence)}
        on conflict (run_id, seq) do nothing
        returning seq
      ), counted as (select count(*)::integer as inserted from ins)
      select counted.inserted from counted, lateral (${notify} where counted.inserted > 0) as n`.execute(db);
    return (result[0]?.inserted ?? 0) > 0;
  };

  const drain = async () => {
    let failures = 0;
    while (pending.length > 0) {
      const batch = pending;
      pending = [];
      if (gaveUp) continue;
      try {
        if (args.fence === undefined && args.notifyChannel === undefined) {
          await db
            .insertInto('run_events')
            .values(
              batch.map((event) => ({
                run_id: runId,
                seq: event.seq,
                type: event.type,
                payload: JSON.stringify(event.payload),
              })),
            )
            .onConflict((conflict) => conflict.columns(['run_id', 'seq']).doNothing())
            .execute();
        } else if (!(await insertFenced(batch))) {
          await assertFence(db, args.fence); // throws when the run changed hands
        }
        failures = 0;
        bus.publish(runId, batch);
      } catch (error) {
        failures++;
        gaveUp = failures >= STORE_ATTEMPTS || error instanceof StaleFenceError;
        log.error(
          { err: error, runId, seqs: [batch[0]?.seq, batch.at(-1)?.seq], attempt: failures, gaveUp },
          gaveUp ? 'could not store run events; storing no more for this run' : 'could not store run events',
        );
        if (!gaveUp) {
          pending = [...batch, ...pending];
          await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** (failures - 1)));
        }
      }
    }
    running = false; // same synchronous step as the loop's last check
  };

  const writer: RunEventWriter = {
    push(event) {
      pending.push({ seq: event.seq, type: event.type, payload: { ...event } });
      lastSeq = Math.max(lastSeq, event.seq);
      if (isTerminalRunEvent(event.type)) ended = true;
      if (!running) {
        running = true;
        const delay = args.batchDelayMs ?? 0;
        idle =
          delay > 0 && !ended
            ? new Promise<void>((resolve) => setTimeout(resolve, delay)).then(drain)
            : drain();
      }
    },
    async flush() {
      while (running) await idle;
    },
    get lastSeq() {
      return lastSeq;
    },
    get ended() {
      return ended;
    },
  };
  return writer;
}

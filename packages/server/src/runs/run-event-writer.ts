import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DB } from '../db/schema.ts';
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

/**
 * An event writer for one run: pushed events are inserted into `run_events` in batches (one
 * statement per batch, one batch at a time, so rows commit in `seq` order), then published on the
 * bus. A `seq` already stored is left alone (`on conflict do nothing`). A failed insert is logged
 * and its events are not published: followers never see an event the table does not have.
 * @internal
 */
export function createRunEventWriter(args: {
  readonly db: Kysely<DB>;
  readonly bus: RunEventBus;
  readonly runId: string;
  readonly log: Logger;
  /** The highest `seq` already stored for the run (0 for a new run). */
  readonly lastSeq?: number;
}): RunEventWriter {
  const { db, bus, runId, log } = args;
  let pending: StoredRunEvent[] = [];
  let lastSeq = args.lastSeq ?? 0;
  let ended = false;
  // `running` is cleared in the same synchronous step as the last emptiness check, so a push can
  // never find a drain that has already decided to stop.
  let running = false;
  let idle: Promise<void> = Promise.resolve();

  const drain = async () => {
    while (pending.length > 0) {
      const batch = pending;
      pending = [];
      try {
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
        bus.publish(runId, batch);
      } catch (error) {
        log.error(
          { err: error, runId, seqs: [batch[0]?.seq, batch.at(-1)?.seq] },
          'could not store run events',
        );
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
        idle = drain();
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

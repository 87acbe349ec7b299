import { StaleFenceError } from '@vidgenie/engine';
import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import { prepared } from '../db/prepared-statements.ts';
import type { DB } from '../db/schema.ts';
import { assertFence, type LeaseFence } from './lease-fence.ts';
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

/** Every run's event writer in a process, storing the events of all its runs together. */
export interface RunEventSink {
  /** A writer for one run's events. */
  writer(args: {
    readonly runId: string;
    /** The highest `seq` already stored for the run (0 for a new run). */
    readonly lastSeq?: number;
    /** The worker's lease: once another worker holds the run, its events are no longer stored. */
    readonly fence?: LeaseFence;
  }): RunEventWriter;
}

/** Attempts at storing a run's events (a dropped connection, a failover) before giving up on it. */
const STORE_ATTEMPTS = 5;

/** One run's writer state. */
interface RunState {
  readonly runId: string;
  readonly fence: LeaseFence | undefined;
  pending: StoredRunEvent[];
  /** Events in the statement in flight. */
  inFlight: StoredRunEvent[];
  lastSeq: number;
  ended: boolean;
  failures: number;
  /** Set when a batch could not be stored: later events would leave a gap, so they are dropped. */
  gaveUp: boolean;
  /** No attempt before this time (ms, after a failure). */
  retryAt: number;
  waiters: (() => void)[];
}

/**
 * The process's event sink: every run's pushed events are inserted into `run_events` together,
 * one statement for the events of all runs that have some waiting, one statement at a time (so
 * each run's rows commit in `seq` order), then published on the bus run by run. Under load the
 * events of many runs share one insert and one transaction (and one commit flush), instead of one
 * statement per run and burst.
 *
 * Per run, nothing changes: a row goes in only while the run's lease is the writer's (checked per
 * row in the statement) and the notify channel hears each run id that got rows; a `seq` already
 * stored is left alone (`on conflict do nothing`); a run whose rows all went nowhere explains
 * itself with `StaleFenceError` (no more events stored for it) or had them stored already (a retry
 * after a commit an error hid). A failed statement is retried with each run's events on their own,
 * so one run's bad batch cannot hold the others back; a run whose events fail
 * {@link STORE_ATTEMPTS} times, or that changed hands, stores nothing more: the table and the
 * stream keep a gap-free prefix rather than skip a batch. Events are published only once stored:
 * followers never see an event the table does not have.
 * @internal
 */
export function createRunEventSink(args: {
  readonly db: Kysely<DB>;
  readonly bus: RunEventBus;
  readonly log: Logger;
  /** Postgres channel told the run id after each stored batch (other machines' followers). */
  readonly notifyChannel?: string;
  /**
   * How long the first waiting event waits for others before the insert (default 0). A few
   * milliseconds turn a node's bursts (progress, capture, completion, the next node's start) and
   * other runs' events into one statement; terminal events never wait.
   */
  readonly batchDelayMs?: number;
}): RunEventSink {
  const { db, bus, log } = args;
  const delay = args.batchDelayMs ?? 0;
  /** Runs with events waiting, in the order they first had some. */
  const waiting = new Set<RunState>();
  let draining = false;
  let timer: NodeJS.Timeout | undefined;
  /** When the timer fires (ms), or Infinity without one. */
  let timerAt = Number.POSITIVE_INFINITY;

  /** Drains at `at` (ms) at the latest: an earlier request moves the timer forward, never back. */
  const schedule = (at: number) => {
    if (draining) return; // the loop in progress takes what was pushed
    if (timer !== undefined) {
      if (timerAt <= at) return;
      clearTimeout(timer);
      timer = undefined;
      timerAt = Number.POSITIVE_INFINITY;
    }
    const wait = at - Date.now();
    if (wait <= 0) {
      void drain();
      return;
    }
    timerAt = at;
    timer = setTimeout(() => {
      timer = undefined;
      timerAt = Number.POSITIVE_INFINITY;
      void drain();
    }, wait);
  };
  const wake = (now: boolean) => schedule(now || delay === 0 ? 0 : Date.now() + delay);

  const settle = (run: RunState) => {
    if (run.pending.length > 0 || run.inFlight.length > 0) return;
    const waiters = run.waiters;
    run.waiters = [];
    for (const resolve of waiters) resolve();
  };

  const drain = async () => {
    if (draining) return;
    draining = true;
    try {
      for (;;) {
        const now = Date.now();
        const ready = [...waiting].filter((run) => run.retryAt <= now);
        if (ready.length === 0) break;
        for (const run of ready) {
          waiting.delete(run);
          run.inFlight = run.pending;
          run.pending = [];
        }
        if (!(await store(ready)) && ready.length > 1) {
          // One run's events may be what the database refuses: each run on its own.
          for (const run of ready) await store([run]);
        }
        for (const run of ready) settle(run);
      }
    } finally {
      draining = false;
      // Runs waiting to retry after a failure: their time, unless an event comes sooner.
      const next = Math.min(...[...waiting].map((run) => run.retryAt));
      if (Number.isFinite(next)) schedule(next);
    }
  };

  /**
   * One statement for the in-flight events of `runs`. False when it failed: with one run, that
   * run's events go back to the front of its queue (or are given up); with more, they stay in
   * flight for the caller to store run by run.
   */
  const store = async (runs: readonly RunState[]): Promise<boolean> => {
    try {
      const inserted = await insert(runs);
      for (const run of runs) {
        const batch = run.inFlight;
        if (batch.length === 0) continue;
        if ((inserted.get(run.runId) ?? 0) === 0 && run.fence !== undefined) {
          try {
            await assertFence(db, run.fence); // throws when the run changed hands
          } catch (error) {
            fail(run, error);
            continue;
          }
        }
        run.inFlight = [];
        run.failures = 0;
        bus.publish(run.runId, batch);
      }
      return true;
    } catch (error) {
      if (runs.length > 1) return false;
      for (const run of runs) fail(run, error);
      return false;
    }
  };

  const fail = (run: RunState, error: unknown) => {
    const batch = run.inFlight;
    run.inFlight = [];
    run.failures++;
    run.gaveUp = run.failures >= STORE_ATTEMPTS || error instanceof StaleFenceError;
    log.error(
      {
        err: error,
        runId: run.runId,
        seqs: [batch[0]?.seq, batch.at(-1)?.seq],
        attempt: run.failures,
        gaveUp: run.gaveUp,
      },
      run.gaveUp ? 'could not store run events; storing no more for this run' : 'could not store run events',
    );
    if (run.gaveUp) {
      run.pending = [];
      return;
    }
    run.pending = [...batch, ...run.pending];
    run.retryAt = Date.now() + 50 * 2 ** (run.failures - 1);
    waiting.add(run);
  };

  /**
   * The insert: rows of every run, each under its run's lease; the count inserted per run. Its
   * text is the same whatever the rows (columns as arrays), so PostgreSQL plans it once per
   * connection.
   */
  const insert = async (runs: readonly RunState[]): Promise<Map<string, number>> => {
    const runIds: string[] = [];
    const seqs: number[] = [];
    const types: string[] = [];
    const payloads: string[] = [];
    const epochs: (number | null)[] = [];
    for (const run of runs) {
      for (const event of run.inFlight) {
        runIds.push(run.runId);
        seqs.push(event.seq);
        types.push(event.type);
        payloads.push(JSON.stringify(event.payload));
        epochs.push(run.fence?.epoch ?? null);
      }
    }
    const [label, notify] =
      args.notifyChannel === undefined
        ? ['run-events.insert', sql``]
        : ['run-events.insert-notify', sql`, pg_notify(${args.notifyChannel}, counted.run_id)`];
    const { rows: result } = await sql<{ run_id: string; inserted: number }>`${prepared(label)}
      with ins as (
        insert into run_events (run_id, seq, type, payload)
        select v.run_id, v.seq, v.type, v.payload::json
          from unnest(${runIds}::text[], ${seqs}::integer[], ${types}::text[], ${payloads}::text[],
                      ${epochs}::integer[]) as v(run_id, seq, type, payload, epoch)
         where v.epoch is null
            or exists (select 1 from runs where runs.id = v.run_id and runs.lease_epoch = v.epoch)
        on conflict (run_id, seq) do nothing
        returning run_id
      ), counted as (select run_id, count(*)::integer as inserted from ins group by run_id)
      select counted.run_id, counted.inserted ${notify} from counted`.execute(db);
    return new Map(result.map((row) => [row.run_id, row.inserted]));
  };

  return {
    writer({ runId, lastSeq = 0, fence }) {
      const run: RunState = {
        runId,
        fence,
        pending: [],
        inFlight: [],
        lastSeq,
        ended: false,
        failures: 0,
        gaveUp: false,
        retryAt: 0,
        waiters: [],
      };
      return {
        push(event) {
          const terminal = isTerminalRunEvent(event.type);
          run.lastSeq = Math.max(run.lastSeq, event.seq);
          if (terminal) run.ended = true;
          if (run.gaveUp) return;
          run.pending.push({ seq: event.seq, type: event.type, payload: { ...event } });
          waiting.add(run);
          wake(terminal);
        },
        flush() {
          if (run.pending.length === 0 && run.inFlight.length === 0) return Promise.resolve();
          return new Promise<void>((resolve) => run.waiters.push(resolve));
        },
        get lastSeq() {
          return run.lastSeq;
        },
        get ended() {
          return run.ended;
        },
      };
    },
  };
}

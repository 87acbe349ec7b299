import { type Kysely, sql } from 'kysely';
import { gather } from '../db/gather.ts';
import type { DB, RunRowStatus } from '../db/schema.ts';
import type { RunEventBus, StoredRunEvent } from './run-event-bus.ts';
import { isTerminalRunEvent } from './terminal-run-events.ts';

/** What {@link openRunEvents} needs. */
export interface OpenRunEventsOptions {
  readonly db: Kysely<DB>;
  readonly bus: RunEventBus;
  readonly runId: string;
  /** Replay only events whose `seq` is greater (the client's `Last-Event-ID`; 0 for all). */
  readonly after: number;
  /** Only this user's run: another user's run is answered as missing. */
  readonly userId?: string;
}

/**
 * A run's event stream, opened: subscribed to the bus, its stored events after `after` read.
 * Pass it to {@link followRunEvents} (which closes it), or `close` it.
 */
export interface OpenedRunEvents {
  /** What it was opened with. */
  readonly options: OpenRunEventsOptions;
  /** Stops listening to the bus (idempotent). */
  close(): void;
}

/** What an opening reads of one run: its row's status and its stored events after `after`. */
interface Opening {
  readonly runId: string;
  readonly after: number;
  readonly userId: string | undefined;
}

type OpeningRow = {
  status: RunRowStatus;
  seq: number | null;
  type: string | null;
  payload: Record<string, unknown> | null;
};

/** One gathered reader of openings per database handle. */
const openingReaders = new WeakMap<Kysely<DB>, (opening: Opening) => Promise<OpeningRow[]>>();

/**
 * Streams opened at once (every creator's page after pressing Run) read their runs together, in one
 * statement ({@link gather}); each gets its run's rows, in `seq` order, from the same snapshot.
 */
function openingReader(db: Kysely<DB>): (opening: Opening) => Promise<OpeningRow[]> {
  let reader = openingReaders.get(db);
  if (reader === undefined) {
    reader = gather({
      send: async (openings: readonly Opening[]) => {
        const column = <T>(pick: (opening: Opening) => T) => openings.map(pick);
        const { rows } = await sql<OpeningRow & { ord: string }>`
          select q.ord, r.status, e.seq, e.type, e.payload
            from unnest(${column((o) => o.runId)}::text[], ${column((o) => o.after)}::integer[],
                        ${column((o) => o.userId ?? null)}::text[])
                 with ordinality as q(run_id, after, user_id, ord)
            join runs r on r.id = q.run_id and (q.user_id is null or r.user_id = q.user_id)
            left join run_events e on e.run_id = r.id and e.seq > q.after
           order by q.ord, e.seq`.execute(db);
        const byOrd = new Map<number, OpeningRow[]>();
        for (const { ord, ...row } of rows) byOrd.set(Number(ord), [...(byOrd.get(Number(ord)) ?? []), row]);
        return openings.map((_, i) => byOrd.get(i + 1) ?? []);
      },
    });
    openingReaders.set(db, reader);
  }
  return reader;
}

/** What an opened stream holds, by stream (kept out of the public shape). */
const states = new WeakMap<OpenedRunEvents, OpenedState>();

interface OpenedState {
  /** The stored events read at opening, in `seq` order. */
  stored: readonly StoredRunEvent[];
  /** Live events heard since the subscription, in `seq` order. */
  readonly live: StoredRunEvent[];
  /** The run's row was finished when read, or the bus said the run ended. */
  ended: boolean;
  /** Wakes the follower waiting for live events. */
  wake: (() => void) | undefined;
}

/**
 * Subscribes to a run's live events, then reads the run's row and its stored events after `after`
 * in one statement (the same snapshot: every event is stored before the row's final status, so a
 * finished row means the replay is complete). Resolves undefined, subscribed to nothing, when the
 * run does not exist or, with `userId`, is not that user's.
 *
 * @example
 * ```ts
 * import { createServices, followRunEvents, loadConfig, openRunEvents } from '@vidgenie/server';
 * const services = await createServices(loadConfig({ VIDGENIE_DATA_DIR: './.vidgenie-example' }));
 * const opened = await openRunEvents({ db: services.db, bus: services.runs.events, runId: 'run_1', after: 0 });
 * if (opened === undefined) console.log('no such run');
 * else await followRunEvents({ ...opened.options, opened, send: async (event) => console.log(event.seq) });
 * await services.close();
 * ```
 */
export async function openRunEvents(options: OpenRunEventsOptions): Promise<OpenedRunEvents | undefined> {
  const { db, bus, runId, userId } = options;
  const state: OpenedState = { stored: [], live: [], ended: false, wake: undefined };
  const poke = () => {
    const resolve = state.wake;
    state.wake = undefined;
    resolve?.();
  };
  const unsubscribe = bus.subscribe(runId, {
    onEvents: (events) => {
      state.live.push(...events);
      poke();
    },
    onEnd: () => {
      state.ended = true;
      poke();
    },
  });
  let open = true;
  const close = () => {
    if (!open) return;
    open = false;
    unsubscribe();
    poke();
  };
  try {
    const rows = await openingReader(db)({ runId, after: options.after, userId });
    const run = rows[0];
    if (run === undefined) {
      close();
      return undefined;
    }
    const stored: StoredRunEvent[] = [];
    for (const row of rows)
      if (row.seq !== null && row.type !== null && row.payload !== null)
        stored.push({ seq: row.seq, type: row.type, payload: row.payload });
    state.stored = stored;
    if (run.status !== 'queued' && run.status !== 'running') state.ended = true;
  } catch (error) {
    close();
    throw error;
  }
  const opened: OpenedRunEvents = { options, close };
  states.set(opened, state);
  return opened;
}

/** Where {@link followRunEvents} sends events: one at a time, or each batch at once. */
export type RunEventsSender =
  | {
      /** Receives each event once, in `seq` order, with no gap; awaited before the next. */
      readonly send: (event: StoredRunEvent) => Promise<void>;
      readonly sendBatch?: never;
    }
  | {
      /**
       * Receives the events as they come, several at once when they do (the replay, a batch
       * stored together), each event once, in `seq` order, with no gap; awaited before the next
       * batch. An event stream writes a batch as one chunk, as soon as it is published.
       */
      readonly sendBatch: (events: readonly StoredRunEvent[]) => Promise<void>;
      readonly send?: never;
    };

/** Options of {@link followRunEvents}. */
export type FollowRunEventsOptions = OpenRunEventsOptions & RunEventsSender & FollowRunEventsExtras;

/** The rest of {@link FollowRunEventsOptions}. */
export interface FollowRunEventsExtras {
  /** The stream already opened with {@link openRunEvents} (so a caller can answer 404 first). */
  readonly opened?: OpenedRunEvents;
  /** Called after `heartbeatMs` without an event (an SSE comment keeps proxies from closing). */
  readonly heartbeat?: () => Promise<void>;
  readonly heartbeatMs?: number;
  /** Stops following (the client went away). */
  readonly signal?: AbortSignal;
}

/**
 * Replays a run's stored events after `after`, then follows new ones until the run's terminal
 * event (or its row's final status) has been sent. It subscribes to the bus before reading the
 * table ({@link openRunEvents}), and the bus publishes only committed events in `seq` order, so
 * the union of the replay and the live events has no gap; duplicates are dropped by `seq`. A run
 * that does not exist (or, with `userId`, is not that user's) sends nothing.
 *
 * @example
 * ```ts
 * import { createServices, followRunEvents, loadConfig } from '@vidgenie/server';
 * const services = await createServices(loadConfig({ VIDGENIE_DATA_DIR: './.vidgenie-example' }));
 * await followRunEvents({
 *   db: services.db,
 *   bus: services.runs.events,
 *   runId: 'run_1',
 *   after: 0,
 *   send: async (event) => console.log(event.seq, event.type),
 *   signal: AbortSignal.timeout(1_000),
 * });
 * await services.close();
 * ```
 */
export async function followRunEvents(options: FollowRunEventsOptions): Promise<void> {
  const { signal } = options;
  const opened = options.opened ?? (await openRunEvents(options));
  const state = opened === undefined ? undefined : states.get(opened);
  if (opened === undefined || state === undefined) return;
  let lastSent = opened.options.after;
  const poke = () => {
    const resolve = state.wake;
    state.wake = undefined;
    resolve?.();
  };
  signal?.addEventListener('abort', poke, { once: true });

  /** Sends the events not sent yet, up to a terminal one; true when one ended the run. */
  const deliver = async (events: readonly StoredRunEvent[]): Promise<boolean> => {
    const fresh: StoredRunEvent[] = [];
    let last = lastSent;
    let ended = false;
    for (const event of events) {
      if (event.seq <= last) continue;
      fresh.push(event);
      last = event.seq;
      if (isTerminalRunEvent(event.type)) {
        ended = true;
        break;
      }
    }
    if (fresh.length === 0) return false;
    if (options.sendBatch !== undefined) await options.sendBatch(fresh);
    else for (const event of fresh) await options.send(event);
    lastSent = last;
    return ended;
  };

  try {
    if (await deliver(state.stored)) return;
    for (;;) {
      while (state.live.length > 0) {
        if (signal?.aborted) return;
        if (await deliver(state.live.splice(0))) return;
      }
      if (state.ended || signal?.aborted) return;
      let timer: NodeJS.Timeout | undefined;
      const idle = await new Promise<boolean>((resolve) => {
        state.wake = () => resolve(false);
        timer = setTimeout(() => resolve(true), options.heartbeatMs ?? 15_000);
      });
      clearTimeout(timer);
      state.wake = undefined;
      if (idle) await options.heartbeat?.();
    }
  } finally {
    opened.close();
    signal?.removeEventListener('abort', poke);
  }
}

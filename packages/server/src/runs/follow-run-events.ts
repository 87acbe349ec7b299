import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { RunEventBus, StoredRunEvent } from './run-event-bus.ts';
import { isTerminalRunEvent } from './terminal-run-events.ts';

/** Options of {@link followRunEvents}. */
export interface FollowRunEventsOptions {
  readonly db: Kysely<DB>;
  readonly bus: RunEventBus;
  readonly runId: string;
  /** Send only events whose `seq` is greater (the client's `Last-Event-ID`; 0 for all). */
  readonly after: number;
  /** Receives each event once, in `seq` order, with no gap. */
  readonly send: (event: StoredRunEvent) => Promise<void>;
  /** Called after `heartbeatMs` without an event (an SSE comment keeps proxies from closing). */
  readonly heartbeat?: () => Promise<void>;
  readonly heartbeatMs?: number;
  /** Stops following (the client went away). */
  readonly signal?: AbortSignal;
}

/**
 * Replays a run's stored events after `after`, then follows new ones until the run's terminal
 * event (or its row's final status) has been sent. It subscribes to the bus before reading the
 * table, and the bus publishes only committed events in `seq` order, so the union of the replay
 * and the live events has no gap; duplicates are dropped by `seq`.
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
  const { db, bus, runId, send, signal } = options;
  let lastSent = options.after;
  const live: StoredRunEvent[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  const poke = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  const unsubscribe = bus.subscribe(runId, {
    onEvents: (events) => {
      live.push(...events);
      poke();
    },
    onEnd: () => {
      ended = true;
      poke();
    },
  });
  signal?.addEventListener('abort', poke, { once: true });

  /** Sends an event unless already sent; true when it ended the run. */
  const deliver = async (event: StoredRunEvent): Promise<boolean> => {
    if (event.seq <= lastSent) return false;
    await send(event);
    lastSent = event.seq;
    return isTerminalRunEvent(event.type);
  };

  try {
    const stored = await db
      .selectFrom('run_events')
      .select(['seq', 'type', 'payload'])
      .where('run_id', '=', runId)
      .where('seq', '>', options.after)
      .orderBy('seq')
      .execute();
    for (const event of stored) if (await deliver(event)) return;
    // Every event is stored before the row's final status: a finished row has nothing more to send.
    const row = await db.selectFrom('runs').select('status').where('id', '=', runId).executeTakeFirst();
    if (row === undefined || (row.status !== 'queued' && row.status !== 'running')) ended = true;
    for (;;) {
      while (live.length > 0) {
        if (signal?.aborted) return;
        if (await deliver(live.shift() as StoredRunEvent)) return;
      }
      if (ended || signal?.aborted) return;
      let timer: NodeJS.Timeout | undefined;
      const idle = await new Promise<boolean>((resolve) => {
        wake = () => resolve(false);
        timer = setTimeout(() => resolve(true), options.heartbeatMs ?? 15_000);
      });
      clearTimeout(timer);
      wake = undefined;
      if (idle) await options.heartbeat?.();
    }
  } finally {
    unsubscribe();
    signal?.removeEventListener('abort', poke);
  }
}

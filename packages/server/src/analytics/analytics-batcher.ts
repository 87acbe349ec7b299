import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { type AnalyticsEvent, recordAnalyticsEvents } from './record-analytics-event.ts';

interface Waiting {
  readonly events: readonly AnalyticsEvent[];
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** Options of {@link createAnalyticsBatcher}. */
export interface AnalyticsBatcherOptions {
  /**
   * How long the first events handed in wait for others before their insert, in ms (default 0:
   * no timer, they go at once unless an insert is in flight). Analytics are read by dashboards,
   * not by a waiting user, so the run listener lets them gather: under load the events of many
   * runs' steps share one statement instead of taking connections when runs need them.
   */
  readonly delayMs?: number;
  /** Events waiting that start the insert without waiting out the delay (default 500). */
  readonly maxEvents?: number;
}

/**
 * Records analytics events for many callers with one insert at a time: the events handed in while
 * an insert is in flight, or during `delayMs` after the first of them, go together in the next one
 * (a group commit). Each call resolves once its own events are stored. When a shared insert
 * fails, each caller's events are tried on their own, so one caller's bad event fails only its own
 * call.
 * @internal
 */
export function createAnalyticsBatcher(
  db: Kysely<DB>,
  options: AnalyticsBatcherOptions = {},
): (events: readonly AnalyticsEvent[]) => Promise<void> {
  const delayMs = options.delayMs ?? 0;
  const maxEvents = options.maxEvents ?? 500;
  let queue: Waiting[] = [];
  let queued = 0;
  let running = false;
  let timer: NodeJS.Timeout | undefined;

  const drain = async () => {
    clearTimeout(timer);
    timer = undefined;
    running = true;
    try {
      while (queue.length > 0) {
        const batch = queue;
        queue = [];
        queued = 0;
        try {
          await recordAnalyticsEvents(
            db,
            batch.flatMap((waiting) => waiting.events),
          );
          for (const waiting of batch) waiting.resolve();
        } catch (error) {
          if (batch.length === 1) batch[0]?.reject(error);
          else {
            for (const waiting of batch)
              await recordAnalyticsEvents(db, waiting.events).then(waiting.resolve, waiting.reject);
          }
        }
      }
    } finally {
      running = false;
    }
  };

  return (events) => {
    if (events.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      queue.push({ events, resolve, reject });
      queued += events.length;
      if (running) return; // the loop in flight takes them next
      if (delayMs === 0 || queued >= maxEvents) void drain();
      else timer ??= setTimeout(() => void drain(), delayMs);
    });
  };
}

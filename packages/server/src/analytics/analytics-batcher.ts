import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { type AnalyticsEvent, recordAnalyticsEvents } from './record-analytics-event.ts';

interface Waiting {
  readonly events: readonly AnalyticsEvent[];
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Records analytics events for many callers with one insert at a time: the events handed in while
 * an insert is in flight go together in the next one (a group commit: no timer, no added latency
 * when idle). Each call resolves once its own events are stored. When a shared insert fails, each
 * caller's events are tried on their own, so one caller's bad event fails only its own call.
 * @internal
 */
export function createAnalyticsBatcher(db: Kysely<DB>): (events: readonly AnalyticsEvent[]) => Promise<void> {
  let queue: Waiting[] = [];
  let running = false;

  const drain = async () => {
    running = true;
    try {
      while (queue.length > 0) {
        const batch = queue;
        queue = [];
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
      if (!running) void drain();
    });
  };
}

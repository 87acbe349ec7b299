import { type Kysely, sql } from 'kysely';
import { gather } from '../db/gather.ts';
import { prepared } from '../db/prepared-statements.ts';
import type { DB } from '../db/schema.ts';

/** The channel that carries user events across machines (a small JSON payload: ids and a status). */
export const USER_EVENTS_CHANNEL = 'vidgenie_user_events';

/**
 * What a user's dashboard stream hears: something changed, go and read it. Events carry ids and a
 * status only; the client reads the run, the balance or the library through the API.
 */
export type UserEvent =
  /** A run of the user ended (`completed`, `failed` or `cancelled`). */
  | { readonly type: 'run.finished'; readonly runId: string; readonly status: string }
  /** The user's balance or holds changed (a run accepted or ended, a grant). */
  | { readonly type: 'credits.changed' };

/** Fan-out of {@link UserEvent}s to the user's open streams, on this machine or all of them. */
export interface UserEventHub {
  /** Hears the user's events until the returned function is called. */
  subscribe(userId: string, listener: (event: UserEvent) => void): () => void;
  /**
   * Tells the user's streams, in order, on every machine in distributed mode (a `NOTIFY` per
   * event, in a statement shared with other publishes made meanwhile, delivered back to this
   * machine too by the event bridge; identical notifications of one statement arrive once), else
   * on this one. Never throws: a lost dashboard hint must not fail the work that caused it.
   */
  publish(userId: string, ...events: readonly UserEvent[]): Promise<void>;
  /** Delivers to this machine's streams (the event bridge calls it for notifications). */
  deliver(userId: string, event: UserEvent): void;
}

/**
 * Creates a {@link UserEventHub}. With `db` (distributed mode) `publish` goes through
 * `pg_notify(USER_EVENTS_CHANNEL, …)`; without, it delivers in process.
 *
 * Notifications gather as a group commit does: one statement at a time, and those published while
 * it is in flight go together in the next, in the order published. Nothing waits when idle; a
 * burst of accepted runs makes a few statements, not one per run.
 *
 * @example
 * ```ts
 * import { createUserEventHub } from '@vidgenie/server';
 * const hub = createUserEventHub();
 * const stop = hub.subscribe('usr_1', (event) => console.log(event.type));
 * await hub.publish('usr_1', { type: 'credits.changed' }); // logs "credits.changed"
 * stop();
 * ```
 */
export function createUserEventHub(options: { readonly db?: Kysely<DB> } = {}): UserEventHub {
  const listeners = new Map<string, Set<(event: UserEvent) => void>>();
  const deliver = (userId: string, event: UserEvent) => {
    for (const listener of [...(listeners.get(userId) ?? [])]) {
      try {
        listener(event);
      } catch {
        // One closed stream must not stop the others.
      }
    }
  };
  const notify = options.db === undefined ? undefined : gatherNotifications(options.db);
  return Object.freeze({
    subscribe(userId: string, listener: (event: UserEvent) => void) {
      let set = listeners.get(userId);
      if (set === undefined) {
        set = new Set();
        listeners.set(userId, set);
      }
      set.add(listener);
      return () => {
        const current = listeners.get(userId);
        current?.delete(listener);
        if (current?.size === 0) listeners.delete(userId);
      };
    },
    async publish(userId: string, ...events: readonly UserEvent[]) {
      if (events.length === 0) return;
      if (notify === undefined) {
        for (const event of events) deliver(userId, event);
        return;
      }
      await notify(events.map((event) => JSON.stringify({ userId, event })));
    },
    deliver,
  });
}

/**
 * Sends payloads on {@link USER_EVENTS_CHANNEL}, one statement at a time (so in order): those
 * handed in while one is in flight go in the next. Resolves once its payloads were sent (or their
 * statement failed: a lost hint is not an error).
 */
function gatherNotifications(db: Kysely<DB>): (payloads: readonly string[]) => Promise<void> {
  return gather<readonly string[], void>({
    concurrency: 1,
    send: async (items) => {
      // The same text whatever the number (prepared once per connection); unnest keeps the order.
      await sql`${prepared('user-events.notify')}
        select pg_notify(${USER_EVENTS_CHANNEL}, payload)
          from unnest(${items.flat()}::text[]) as payload`
        .execute(db)
        .catch(() => {});
      return items.map(() => undefined);
    },
  });
}

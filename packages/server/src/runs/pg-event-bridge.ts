import type { Kysely } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import type { DB } from '../db/schema.ts';
import { USER_EVENTS_CHANNEL, type UserEvent } from '../events/user-event-hub.ts';
import type { RunEventBus, StoredRunEvent } from './run-event-bus.ts';

/** The channel told a run's id after its events are stored (payload: the run id only). */
export const RUN_EVENTS_CHANNEL = 'vidgenie_run_events';
/** The channel told that a run was sent to the queue: idle workers take it at once instead of at their next poll. */
export const RUN_DISPATCH_CHANNEL = 'vidgenie_run_dispatch';
/** The channel told a run's id when a cancel is asked for it on any machine. */
export const RUN_CANCEL_CHANNEL = 'vidgenie_run_cancel';

/** A running bridge; `stop` closes its connection. */
export interface PgEventBridge {
  stop(): Promise<void>;
}

/**
 * Carries run events and cancels across machines with Postgres `LISTEN/NOTIFY`. Notifications
 * carry ids only; on one for a run that someone in this process follows, the bridge reads the
 * run's events after the last one published here and publishes them on the local bus (followers
 * drop duplicates by `seq`, so the bridge may over-read, never under-read). Cancels go to
 * `onCancel`. The listening connection reconnects after a failure and then catches up every
 * followed run.
 * @internal
 */
export async function startPgEventBridge(args: {
  readonly connectionString: string;
  readonly db: Kysely<DB>;
  readonly bus: RunEventBus;
  readonly log: Logger;
  readonly onCancel: (runId: string) => void;
  /** Whether this process executes the run: its events are already on the local bus, no read needed. */
  readonly isLocal?: (runId: string) => boolean;
  /** Called when a run was sent to the queue on any machine. */
  readonly onDispatch?: () => void;
  /** Receives user events published on any machine (see `UserEventHub`). */
  readonly onUserEvent?: (userId: string, event: UserEvent) => void;
}): Promise<PgEventBridge> {
  const { db, bus, log } = args;
  /** The highest seq published here, per followed run. */
  const published = new Map<string, number>();
  /** Runs being read now; a notification during a read asks for one more. */
  const reading = new Map<string, boolean>();
  let client: pg.Client | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;

  const untap = bus.tap((runId, events) => {
    if (!bus.isFollowed(runId)) return;
    const last = events.at(-1)?.seq ?? 0;
    if (last > (published.get(runId) ?? 0)) published.set(runId, last);
  });

  const readNew = async (runId: string): Promise<void> => {
    if (reading.has(runId)) {
      reading.set(runId, true);
      return;
    }
    reading.set(runId, false);
    try {
      do {
        reading.set(runId, false);
        const after = published.get(runId) ?? 0;
        const rows: StoredRunEvent[] = await db
          .selectFrom('run_events')
          .select(['seq', 'type', 'payload'])
          .where('run_id', '=', runId)
          .where('seq', '>', after)
          .orderBy('seq')
          .execute();
        if (rows.length > 0) bus.publish(runId, rows);
      } while (reading.get(runId) === true && bus.isFollowed(runId));
    } catch (error) {
      log.warn({ err: error, runId }, 'could not read run events after a notification');
    } finally {
      reading.delete(runId);
      if (!bus.isFollowed(runId)) published.delete(runId);
    }
  };

  const connect = async (): Promise<void> => {
    const next = new pg.Client({
      connectionString: args.connectionString,
      application_name: 'vidgenie-events',
    });
    next.on('notification', (message) => {
      if (message.channel === RUN_DISPATCH_CHANNEL) {
        args.onDispatch?.();
        return;
      }
      const runId = message.payload;
      if (runId === undefined || runId === '') return;
      if (message.channel === USER_EVENTS_CHANNEL) {
        try {
          const { userId, event } = JSON.parse(runId) as { userId: string; event: UserEvent };
          args.onUserEvent?.(userId, event);
        } catch {
          // Not ours: ignore.
        }
        return;
      }
      if (message.channel === RUN_CANCEL_CHANNEL) args.onCancel(runId);
      else if (bus.isFollowed(runId) && args.isLocal?.(runId) !== true) void readNew(runId);
      else published.delete(runId);
    });
    next.on('error', (error) => {
      log.warn({ err: error }, 'event bridge connection failed; reconnecting');
      reconnect(next);
    });
    await next.connect();
    await next.query(
      `listen ${RUN_EVENTS_CHANNEL}; listen ${RUN_CANCEL_CHANNEL}; listen ${USER_EVENTS_CHANNEL}; listen ${RUN_DISPATCH_CHANNEL}`,
    );
    client = next;
  };

  const reconnect = (failed: pg.Client) => {
    if (stopped || client !== failed) return;
    client = undefined;
    failed.end().catch(() => {});
    retry = setTimeout(() => {
      connect()
        .then(() => {
          // Notifications sent while disconnected are lost: read every followed run again.
          for (const runId of published.keys()) void readNew(runId);
        })
        .catch(() => {
          const placeholder = new pg.Client();
          client = placeholder;
          reconnect(placeholder);
        });
    }, 1_000);
    retry.unref();
  };

  await connect();
  return Object.freeze({
    async stop() {
      stopped = true;
      untap();
      if (retry !== undefined) clearTimeout(retry);
      await client?.end().catch(() => {});
    },
  });
}

import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import type { DB } from '../db/schema.ts';
import { USER_EVENTS_CHANNEL, type UserEvent } from '../events/user-event-hub.ts';
import { KEY_BACKOFF_CHANNEL } from '../providers/sql-key-backoff-store.ts';
import type { RunEventBus, StoredRunEvent } from './run-event-bus.ts';

/** The channel told a run's id after its events are stored (payload: the run id only). */
export const RUN_EVENTS_CHANNEL = 'vidgenie_run_events';
/** The channel told that a run was sent to the queue: idle workers take it at once instead of at their next poll. */
export const RUN_DISPATCH_CHANNEL = 'vidgenie_run_dispatch';
/** The channel told a run's id when a cancel is asked for it on any machine. */
export const RUN_CANCEL_CHANNEL = 'vidgenie_run_cancel';

/** Reads of run events a bridge has out at once (each for every run notified meanwhile). */
const MAX_BRIDGE_READS = 4;

/** A running bridge; `stop` closes its connection. */
export interface PgEventBridge {
  stop(): Promise<void>;
}

/**
 * Carries run events and cancels across machines with Postgres `LISTEN/NOTIFY`. Notifications
 * carry ids only; on one for a run that someone in this process follows, the bridge reads the
 * run's events after the last one published here and publishes them on the local bus (followers
 * drop duplicates by `seq`, so the bridge may over-read, never under-read). The runs notified
 * together are read together, in one statement. Cancels go to `onCancel`, provider keys' back-offs
 * struck or cleared anywhere to `onKeyBackoff`. The listening connection reconnects after a
 * failure and then catches up every followed run; `onListening` hears when it listens and when
 * it stops.
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
  /** Receives the hash of a provider key whose back-off was struck or cleared on any machine. */
  readonly onKeyBackoff?: (keyHash: string) => void;
  /** Told `true` once the connection listens (again), `false` when it fails or the bridge stops. */
  readonly onListening?: (listening: boolean) => void;
  /**
   * Whether to hear runs' and users' events from other machines, for this process's event
   * streams (default true). A process that serves no stream (`vidgenie worker`) turns it off, so
   * that every event insert elsewhere does not wake it and its database backend.
   */
  readonly relayEvents?: boolean;
}): Promise<PgEventBridge> {
  const { db, bus, log } = args;
  /** The highest seq published here, per followed run. */
  const published = new Map<string, number>();
  let client: pg.Client | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;

  const untap = bus.tap((runId, events) => {
    if (!bus.isFollowed(runId)) return;
    const last = events.at(-1)?.seq ?? 0;
    if (last > (published.get(runId) ?? 0)) published.set(runId, last);
  });

  /** Runs notified and not read yet (a notification during a run's read waits here for the next). */
  const wanted = new Set<string>();
  /** Runs whose read is out: one read per run at a time keeps its batches in `seq` order. */
  const inFlight = new Set<string>();
  let reads = 0;
  let scheduled = false;

  /**
   * Reads the new events of the wanted runs not being read already, all in one statement (the
   * runs notified by one transaction, or while earlier reads were out, go together): under load a
   * worker's event insert notifies for many runs at once, and a read per run made the API
   * process's reads outnumber every other statement. Up to {@link MAX_BRIDGE_READS} reads are out
   * at once, so one slow read does not hold every other run's events back. Each run's rows are
   * published in `seq` order.
   */
  const read = async (): Promise<void> => {
    const runIds = [...wanted].filter((runId) => !inFlight.has(runId));
    for (const runId of runIds) wanted.delete(runId);
    const followed = runIds.filter((runId) => bus.isFollowed(runId));
    for (const runId of runIds) if (!bus.isFollowed(runId)) published.delete(runId);
    if (followed.length === 0) return;
    for (const runId of followed) inFlight.add(runId);
    reads++;
    try {
      const afters = followed.map((runId) => published.get(runId) ?? 0);
      const { rows } = await sql<StoredRunEvent & { readonly run_id: string }>`
        select e.run_id, e.seq, e.type, e.payload
          from unnest(${followed}::text[], ${afters}::integer[]) as wanted(run_id, after_seq)
          join run_events e on e.run_id = wanted.run_id and e.seq > wanted.after_seq
         order by e.run_id, e.seq`.execute(db);
      const byRun = new Map<string, StoredRunEvent[]>();
      for (const { run_id, ...event } of rows) {
        const list = byRun.get(run_id);
        if (list === undefined) byRun.set(run_id, [event]);
        else list.push(event);
      }
      for (const [runId, events] of byRun) bus.publish(runId, events);
    } catch (error) {
      log.warn({ err: error, runs: followed.length }, 'could not read run events after a notification');
    } finally {
      reads--;
      for (const runId of followed) {
        inFlight.delete(runId);
        if (!bus.isFollowed(runId)) published.delete(runId);
      }
      schedule();
    }
  };
  /**
   * Starts reads for the wanted runs after this tick's other notifications (one transaction's
   * arrive together).
   */
  const schedule = () => {
    if (scheduled || stopped) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      while (reads < MAX_BRIDGE_READS && [...wanted].some((runId) => !inFlight.has(runId))) void read();
    });
  };
  /** Asks for a read of the run's new events; the notifications of one batch share it. */
  const readNew = (runId: string) => {
    wanted.add(runId);
    schedule();
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
      if (message.channel === KEY_BACKOFF_CHANNEL) {
        if (message.payload) args.onKeyBackoff?.(message.payload);
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
      else if (bus.isFollowed(runId) && args.isLocal?.(runId) !== true) readNew(runId);
      else published.delete(runId);
    });
    next.on('error', (error) => {
      log.warn({ err: error }, 'event bridge connection failed; reconnecting');
      reconnect(next);
    });
    await next.connect();
    const channels = [
      RUN_CANCEL_CHANNEL,
      RUN_DISPATCH_CHANNEL,
      KEY_BACKOFF_CHANNEL,
      ...(args.relayEvents === false ? [] : [RUN_EVENTS_CHANNEL, USER_EVENTS_CHANNEL]),
    ];
    await next.query(channels.map((channel) => `listen ${channel}`).join('; '));
    client = next;
    args.onListening?.(true);
  };

  const reconnect = (failed: pg.Client) => {
    if (stopped || client !== failed) return;
    client = undefined;
    args.onListening?.(false);
    failed.end().catch(() => {});
    retry = setTimeout(() => {
      connect()
        .then(() => {
          // Notifications sent while disconnected are lost: read every followed run again.
          for (const runId of published.keys()) readNew(runId);
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
      args.onListening?.(false);
      untap();
      if (retry !== undefined) clearTimeout(retry);
      await client?.end().catch(() => {});
    },
  });
}

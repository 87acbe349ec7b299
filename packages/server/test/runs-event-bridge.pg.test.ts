/**
 * The cross-machine event bridge: the runs one transaction notifies are read in one statement,
 * each run's events reach its followers in `seq` order, and a later notification brings only what
 * is new; provider keys' back-offs struck or cleared on one machine reach the others at once.
 * PostgreSQL only (LISTEN/NOTIFY).
 */
import { randomBytes } from 'node:crypto';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrateToLatest } from '../src/db/migrate.ts';
import type { DB } from '../src/db/schema.ts';
import { createSqlKeyBackoffStore } from '../src/providers/sql-key-backoff-store.ts';
import { RUN_CANCEL_CHANNEL, RUN_EVENTS_CHANNEL, startPgEventBridge } from '../src/runs/pg-event-bridge.ts';
import { createRunEventBus, type StoredRunEvent } from '../src/runs/run-event-bus.ts';
import { adminQuery, withDatabase } from './support/admin-database.ts';
import { countStatements } from './support/count-statements.ts';

const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const name = `vidgenie_test_bridge_${process.pid}_${randomBytes(4).toString('hex')}`;
const url = withDatabase(adminUrl, name);
/** Statements that read `run_events`, counted by the bridge's own Kysely. */
let eventReads = 0;
let db: Kysely<DB>;

beforeAll(async () => {
  await adminQuery(adminUrl, `create database ${name}`);
  db = new Kysely<DB>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 4 }) }),
    log: (event) => {
      if (event.level === 'query' && /from\s+(unnest|"?run_events)/i.test(event.query.sql)) eventReads++;
    },
  });
  await migrateToLatest(db);
});

afterAll(async () => {
  await db?.destroy();
  await adminQuery(adminUrl, `drop database if exists ${name} with (force)`);
});

const waitFor = async (done: () => boolean, what: string) => {
  for (let i = 0; !done(); i++) {
    if (i > 500) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

it('reads the runs one transaction notifies in one statement, in seq order, then only what is new, once', async () => {
  const userId = `usr_bridge_${randomBytes(3).toString('hex')}`;
  await db
    .insertInto('users')
    .values({ id: userId, email: `${userId}@example.com`, password_hash: 'x' })
    .execute();
  const runIds = Array.from({ length: 30 }, (_, i) => `run_bridge_${i}_${randomBytes(3).toString('hex')}`);
  await db
    .insertInto('runs')
    .values(
      runIds.map((id) => ({
        id,
        user_id: userId,
        status: 'running' as const,
        graph: '{}',
        estimated_cost: 1,
      })),
    )
    .execute();
  const store = async (seqs: readonly number[], runs: readonly string[]) => {
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto('run_events')
        .values(
          runs.flatMap((runId) =>
            seqs.map((seq) => ({
              run_id: runId,
              seq,
              type: 'node.progress',
              payload: JSON.stringify({ runId, seq }),
            })),
          ),
        )
        .execute();
      await sql`select ${sql.join(runs.map((runId) => sql`pg_notify(${RUN_EVENTS_CHANNEL}, ${runId})`))}`.execute(
        trx,
      );
    });
  };

  const bus = createRunEventBus();
  const received = new Map<string, StoredRunEvent[]>(runIds.map((runId) => [runId, []]));
  const stops = runIds.map((runId) =>
    bus.subscribe(runId, { onEvents: (events) => received.get(runId)?.push(...events), onEnd: () => {} }),
  );
  const bridge = await startPgEventBridge({
    connectionString: url,
    db,
    bus,
    log: pino({ level: 'silent' }),
    onCancel: () => {},
  });
  try {
    const total = () => [...received.values()].reduce((sum, events) => sum + events.length, 0);
    eventReads = 0;
    await store([1, 2, 3], runIds);
    await waitFor(() => total() === 90, 'the first 90 events');
    // 30 runs notified by one transaction: one read (two if the notifications were split by a
    // network read), not thirty.
    expect(eventReads).toBeGreaterThanOrEqual(1);
    expect(eventReads).toBeLessThanOrEqual(2);
    for (const [runId, events] of received) {
      expect(events.map((event) => event.seq)).toEqual([1, 2, 3]);
      expect(events.map((event) => event.payload)).toEqual([1, 2, 3].map((seq) => ({ runId, seq })));
    }

    // Later events of five runs: only those, once each.
    const some = runIds.slice(0, 5);
    eventReads = 0;
    await store([4, 5], some);
    await waitFor(() => total() === 100, 'the next 10 events');
    expect(eventReads).toBeLessThanOrEqual(2);
    for (const runId of runIds) {
      const seqs = received.get(runId)?.map((event) => event.seq);
      expect(seqs).toEqual(some.includes(runId) ? [1, 2, 3, 4, 5] : [1, 2, 3]);
    }

    // Ten transactions in a row for the 25 others, while reads are out: every run still gets each
    // event once, in order (a run is never read twice at once).
    const others = runIds.slice(5);
    for (let seq = 4; seq <= 13; seq++) await store([seq], others);
    await waitFor(() => total() === 100 + 25 * 10, 'the last 250 events');
    for (const runId of others) {
      expect(received.get(runId)?.map((event) => event.seq)).toEqual(
        Array.from({ length: 13 }, (_, i) => i + 1),
      );
    }
  } finally {
    for (const stop of stops) stop();
    await bridge.stop();
  }
});

it("tells every machine's back-off store of a strike or a clear at once, and a listening store keeps its answers", async () => {
  const hash = randomBytes(32).toString('hex');
  const { db: counted, count } = countStatements(db);
  const elsewhere = createSqlKeyBackoffStore({ db });
  // cacheMs 0: without the channel this store would ask the database at every read.
  const here = createSqlKeyBackoffStore({ db: counted, cacheMs: 0 });
  const heard: string[] = [];
  const listening: boolean[] = [];
  const bridge = await startPgEventBridge({
    connectionString: url,
    db,
    bus: createRunEventBus(),
    log: pino({ level: 'silent' }),
    onCancel: () => {},
    onKeyBackoff: (keyHash) => {
      heard.push(keyHash);
      here.heard(keyHash);
    },
    onListening: (on) => {
      listening.push(on);
      here.listening(on);
    },
  });
  try {
    expect(listening).toEqual([true]);
    expect(await here.read(hash)).toEqual({ waitMs: 0, strikes: 0 });
    const afterFirstRead = count();
    expect(await here.read(hash)).toEqual({ waitMs: 0, strikes: 0 });
    expect(count()).toBe(afterFirstRead); // kept while listening

    // A 429 on the other machine: heard here at once, and the next read sees the back-off.
    await elsewhere.strike(hash, () => 60_000);
    await waitFor(() => heard.includes(hash), "the strike's notification");
    expect(await here.read(hash)).toMatchObject({ strikes: 1, waitMs: expect.any(Number) });
    expect((await here.read(hash)).waitMs).toBeGreaterThan(50_000);

    // Its end, then a success there: the clear is heard too, and the strikes are forgotten here.
    await sql`update provider_key_backoffs set until = now() where key_hash = ${hash}`.execute(db);
    heard.length = 0;
    await elsewhere.clear(hash);
    await waitFor(() => heard.includes(hash), "the clear's notification");
    expect(await here.read(hash)).toEqual({ waitMs: 0, strikes: 0 });
  } finally {
    await bridge.stop();
  }
  expect(listening).toEqual([true, false]);
  // No longer listening: back to cacheMs, here 0 (every read asks).
  const before = count();
  await here.read(hash);
  await here.read(hash);
  expect(count()).toBe(before + 2);
});

it('with relayEvents off (a worker serving no stream) hears cancels, not run events', async () => {
  const runId = `run_worker_${randomBytes(3).toString('hex')}`;
  const bus = createRunEventBus();
  const received: StoredRunEvent[] = [];
  const stop = bus.subscribe(runId, { onEvents: (events) => received.push(...events), onEnd: () => {} });
  const cancels: string[] = [];
  const bridge = await startPgEventBridge({
    connectionString: url,
    db,
    bus,
    log: pino({ level: 'silent' }),
    onCancel: (id) => cancels.push(id),
    relayEvents: false,
  });
  try {
    eventReads = 0;
    await sql`select pg_notify(${RUN_EVENTS_CHANNEL}, ${runId})`.execute(db);
    // Notifications reach a listener in the order they were sent: once the cancel is heard, the
    // run's notification would have been too.
    await sql`select pg_notify(${RUN_CANCEL_CHANNEL}, ${runId})`.execute(db);
    await waitFor(() => cancels.includes(runId), 'the cancel');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(eventReads).toBe(0);
    expect(received).toEqual([]);
  } finally {
    stop();
    await bridge.stop();
  }
});

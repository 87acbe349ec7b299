/**
 * The cross-machine event bridge: the runs one transaction notifies are read in one statement,
 * each run's events reach its followers in `seq` order, and a later notification brings only what
 * is new. PostgreSQL only (LISTEN/NOTIFY).
 */
import { randomBytes } from 'node:crypto';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrateToLatest } from '../src/db/migrate.ts';
import type { DB } from '../src/db/schema.ts';
import { RUN_EVENTS_CHANNEL, startPgEventBridge } from '../src/runs/pg-event-bridge.ts';
import { createRunEventBus, type StoredRunEvent } from '../src/runs/run-event-bus.ts';
import { adminQuery, withDatabase } from './support/admin-database.ts';

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

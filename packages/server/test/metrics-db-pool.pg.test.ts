/**
 * The PostgreSQL connection pool in `GET /metrics`: open, idle and waiting connections and each
 * statement's wait for one, so an operator can tell a saturated pool from a slow database. The
 * pool is PostgreSQL's (PGlite has one connection), so this file runs on that lane only.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrateToLatest } from '../src/db/migrate.ts';
import { type Database, openDatabase } from '../src/db/open-database.ts';
import { POOL_WAIT_BUCKETS } from '../src/metrics/create-metrics.ts';
import { adminQuery, withDatabase } from './support/admin-database.ts';
import { metricValue } from './support/ops-fixtures.ts';
import { createTestApp, type TestApp } from './support/test-app.ts';

const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const name = `vidgenie_test_pool_${process.pid}_${randomBytes(4).toString('hex')}`;
let database: Database;
let t: TestApp;

beforeAll(async () => {
  await adminQuery(adminUrl, `create database ${name}`);
  database = await openDatabase({ kind: 'postgres', url: withDatabase(adminUrl, name), maxConnections: 2 });
  await migrateToLatest(database.db);
  t = await createTestApp(database);
});

afterAll(async () => {
  await t?.services.close();
  await database?.close();
  await adminQuery(adminUrl, `drop database if exists ${name} with (force)`);
});

it('shows the pool full and a caller waiting, then that caller wait in the histogram', async () => {
  const { db, metrics } = t.services;
  const before = await metrics.scrape();
  expect(metricValue(before, 'vidgenie_db_pool_max_connections')).toBe(2);
  const countBefore = metricValue(before, 'vidgenie_db_pool_wait_seconds_count') ?? 0;
  expect(countBefore).toBeGreaterThan(0); // sign-up and migrations already took connections

  // Both connections held, and a third statement waiting for one.
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let entered = 0;
  const holders = [1, 2].map(() =>
    db.connection().execute(async (connection) => {
      await connection.selectNoFrom((eb) => eb.lit(1).as('one')).execute();
      entered++;
      await held;
    }),
  );
  while (entered < 2) await new Promise((resolve) => setTimeout(resolve, 5));
  const waiter = db.selectNoFrom((eb) => eb.lit(3).as('three')).execute();
  await new Promise((resolve) => setTimeout(resolve, 60));

  // The counts are read when the scrape begins; its own query waits like the third statement.
  const scraping = metrics.scrape();
  release();
  const during = await scraping;
  await Promise.all([...holders, waiter]);
  expect(metricValue(during, 'vidgenie_db_pool_connections', { state: 'open' })).toBe(2);
  expect(metricValue(during, 'vidgenie_db_pool_connections', { state: 'idle' })).toBe(0);
  expect(metricValue(during, 'vidgenie_db_pool_connections', { state: 'waiting' })).toBe(1);

  const after = await metrics.scrape();
  const count = metricValue(after, 'vidgenie_db_pool_wait_seconds_count') ?? 0;
  expect(count).toBeGreaterThanOrEqual(countBefore + 4); // two holders, the waiter, the scrape
  // The waiter (and the scrape's query) waited 60 ms or more: above the 50 ms bucket.
  expect(POOL_WAIT_BUCKETS).toContain(0.05);
  const within50ms = metricValue(after, 'vidgenie_db_pool_wait_seconds_bucket', { le: '0.05' }) ?? 0;
  expect(count - within50ms).toBeGreaterThanOrEqual(1);
  expect(metricValue(after, 'vidgenie_db_pool_connections', { state: 'waiting' })).toBe(0);
});

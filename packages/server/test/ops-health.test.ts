/**
 * `GET /healthz` (liveness) and `GET /readyz` (readiness): public, outside `/api`, 503 naming the
 * failing check when the database is gone, does not answer in time, or the services are closing.
 */
import { expect, it } from 'vitest';
import { migrateToLatest } from '../src/db/migrate.ts';
import { type Database, openDatabase } from '../src/db/open-database.ts';
import { createTestApp } from './support/test-app.ts';
import { describeEachDatabase, type TestDatabase } from './support/test-databases.ts';

/** A second, separately closable handle on the lane's database (a fresh one for PGlite). */
async function extraDatabase(lane: TestDatabase): Promise<Database> {
  if (lane.url !== undefined) return openDatabase({ kind: 'postgres', url: lane.url, maxConnections: 2 });
  const database = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
  await migrateToLatest(database.db);
  return database;
}

describeEachDatabase('health probes', ({ lane, database }) => {
  it('answers liveness and readiness without credentials, uncached, with every check ok', async () => {
    const t = await createTestApp(database(), { rateLimitScale: 1 });
    try {
      const live = await t.request('GET', '/healthz');
      expect(live.status).toBe(200);
      expect(await live.json()).toEqual({ status: 'ok' });
      expect(live.headers.get('cache-control')).toBe('no-store');
      // Probes are outside /api: no per-address rate limit however often they are called.
      for (let i = 0; i < 5; i++) expect((await t.request('GET', '/readyz')).status).toBe(200);
      const ready = await t.request('GET', '/readyz');
      expect(await ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', shutdown: 'ok' } });
      // A cookie or token is not needed, and a bad one does not matter.
      expect((await t.request('GET', '/readyz', undefined, { authorization: 'Bearer nope' })).status).toBe(
        200,
      );
    } finally {
      await t.services.close();
    }
  });

  it('answers 503 "unreachable" once the database is closed, while liveness stays 200', async () => {
    const extra = await extraDatabase(database());
    const t = await createTestApp(extra);
    try {
      expect((await t.request('GET', '/readyz')).status).toBe(200);
      await extra.close();
      const ready = await t.request('GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({
        status: 'unavailable',
        checks: { database: 'unreachable', shutdown: 'ok' },
      });
      expect((await t.request('GET', '/healthz')).status).toBe(200);
    } finally {
      await t.services.close().catch(() => {});
    }
  });

  it('answers 503 "closing" once the services start closing', async () => {
    const t = await createTestApp(database());
    expect(t.services.isClosing()).toBe(false);
    await t.services.close();
    expect(t.services.isClosing()).toBe(true);
    const ready = await t.request('GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({
      status: 'unavailable',
      checks: { database: 'ok', shutdown: 'closing' },
    });
  });

  // Declared on PGlite only (not skipped elsewhere): its single connection is what makes the
  // database stop answering while a transaction holds it.
  if (lane === 'pglite')
    it('answers 503 "timeout" when the database does not answer within 2 s', async () => {
      // PGlite is one connection: while a transaction holds it, `select 1` waits past the timeout.
      const t = await createTestApp(database());
      try {
        const ready = await database()
          .db.transaction()
          .execute(async () => t.request('GET', '/readyz'));
        expect(ready.status).toBe(503);
        expect(await ready.json()).toEqual({
          status: 'unavailable',
          checks: { database: 'timeout', shutdown: 'ok' },
        });
        expect((await t.request('GET', '/readyz')).status).toBe(200);
      } finally {
        await t.services.close();
      }
    });
});

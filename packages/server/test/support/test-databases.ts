import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe } from 'vitest';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { type Database, openDatabase } from '../../src/db/open-database.ts';
import type { DB } from '../../src/db/schema.ts';
import { adminQuery, withDatabase } from './admin-database.ts';

/** A database the suite runs on: PGlite always, PostgreSQL when `TEST_DATABASE_URL` is set. */
export interface TestLane {
  readonly name: 'pglite' | 'postgres';
  /** A fresh, migrated database of its own; `drop()` closes and removes it. */
  create(): Promise<TestDatabase>;
}

/** A migrated database created for one test file. */
export interface TestDatabase extends Database {
  /** For PostgreSQL: the URL of this database (other processes or pools can connect to it). */
  readonly url: string | undefined;
  drop(): Promise<void>;
}

/** The lanes for this run. With `TEST_DATABASE_URL` set, an unreachable server fails the run; it never skips. */
export function testLanes(): readonly TestLane[] {
  const lanes: TestLane[] = [{ name: 'pglite', create: createPGliteDatabase }];
  const url = process.env.TEST_DATABASE_URL;
  if (url !== undefined && url !== '')
    lanes.push({ name: 'postgres', create: () => createPostgresDatabase(url) });
  return lanes;
}

async function createPGliteDatabase(): Promise<TestDatabase> {
  const database = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
  await migrateToLatest(database.db);
  return { ...database, url: undefined, drop: () => database.close() };
}

async function createPostgresDatabase(adminUrl: string): Promise<TestDatabase> {
  const name = `vidgenie_test_${process.pid}_${randomBytes(6).toString('hex')}`;
  await adminQuery(adminUrl, `create database ${name}`);
  const url = withDatabase(adminUrl, name);
  const database = await openDatabase({ kind: 'postgres', url, maxConnections: 20 });
  await migrateToLatest(database.db);
  return {
    ...database,
    url,
    async drop() {
      await database.close();
      await adminQuery(adminUrl, `drop database if exists ${name} with (force)`);
    },
  };
}

/**
 * Declares the same suite once per lane, each on its own fresh database (created before, dropped
 * after). Tests must not assume an empty database: they create their own users.
 */
export function describeEachDatabase(
  title: string,
  suite: (context: {
    readonly lane: TestLane['name'];
    db: () => Kysely<DB>;
    database: () => TestDatabase;
  }) => void,
): void {
  for (const lane of testLanes()) {
    describe(`${title} [${lane.name}]`, () => {
      let database: TestDatabase | undefined;
      beforeAll(async () => {
        database = await lane.create();
      });
      afterAll(async () => {
        await database?.drop();
      });
      const current = (): TestDatabase => {
        if (database === undefined) throw new Error('the test database is not open yet');
        return database;
      };
      suite({ lane: lane.name, db: () => current().db, database: current });
    });
  }
}

/**
 * Declares a suite that needs PostgreSQL itself (pg-boss, LISTEN/NOTIFY, several processes): on a
 * fresh database of its own when `TEST_DATABASE_URL` is set, as the Postgres lane of
 * {@link describeEachDatabase} is. CI sets it and fails when the server is unreachable.
 */
export function describePostgres(
  title: string,
  suite: (context: { database: () => TestDatabase & { readonly url: string } }) => void,
): void {
  const lane = testLanes().find((candidate) => candidate.name === 'postgres');
  if (lane === undefined) return;
  describe(`${title} [postgres]`, () => {
    let database: TestDatabase | undefined;
    beforeAll(async () => {
      database = await lane.create();
    });
    afterAll(async () => {
      await database?.drop();
    });
    suite({
      database: () => {
        if (database?.url === undefined) throw new Error('the test database is not open yet');
        return database as TestDatabase & { readonly url: string };
      },
    });
  });
}

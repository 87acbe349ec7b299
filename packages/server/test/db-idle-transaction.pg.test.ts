import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { type Database, openDatabase } from '../src/db/open-database.ts';
import { databaseOptions } from '../src/services/create-services.ts';
import { describePostgres } from './support/test-databases.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A worker frozen in the middle of a transaction (SIGSTOP, a paused VM) keeps its locks until the
 * server ends its session. The chaos run found one holding a per-user advisory lock: the worker
 * taking over its runs waited on that lock for as long as the freeze lasted.
 */
describePostgres('a session idle in a transaction', ({ database }) => {
  it('is ended by the server after the timeout: its locks go, the process lives on, the pool recovers', async () => {
    const frozen: Database = await openDatabase({
      kind: 'postgres',
      url: database().url,
      maxConnections: 2,
      idleInTransactionTimeoutMs: 300,
    });
    const other: Database = await openDatabase({ kind: 'postgres', url: database().url, maxConnections: 2 });
    try {
      const order: string[] = [];
      const stalled = frozen.db
        .transaction()
        .execute(async (trx) => {
          await sql`select pg_advisory_xact_lock(4242)`.execute(trx);
          order.push('frozen holds the lock');
          await sleep(3_000); // the freeze: nothing sent to the server meanwhile
          order.push('frozen woke');
          await sql`select 1`.execute(trx);
        })
        .then(
          () => 'committed',
          (error: unknown) => error,
        );
      while (order.length === 0) await sleep(20);
      await other.db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(4242)`.execute(trx);
        order.push('other took the lock');
      });
      const outcome = await stalled;
      expect(order).toEqual(['frozen holds the lock', 'other took the lock', 'frozen woke']);
      // The woken transaction learns it is over instead of committing.
      expect(outcome).not.toBe('committed');
      expect(String((outcome as Error).message)).toMatch(/connection error|terminat|closed/i);
      // The pool dropped the ended connection and opens a new one.
      const { rows } = await sql<{ one: number }>`select 1 as one`.execute(frozen.db);
      expect(rows).toEqual([{ one: 1 }]);
    } finally {
      await frozen.close();
      await other.close();
    }
  }, 20_000);

  it('times out within half a lease, between 2 and 10 s, in the server configuration', () => {
    const options = (seconds: number) =>
      databaseOptions({
        DATABASE_URL: 'postgres://db.example/vidgenie',
        VIDGENIE_DATA_DIR: '/tmp/vidgenie',
        VIDGENIE_DB_POOL_SIZE: 10,
        VIDGENIE_LEASE_SECONDS: seconds,
      });
    const timeoutOf = (seconds: number) => {
      const chosen = options(seconds);
      return chosen.kind === 'postgres' ? chosen.idleInTransactionTimeoutMs : undefined;
    };
    expect([timeoutOf(2), timeoutOf(15), timeoutOf(60)]).toEqual([2_000, 7_500, 10_000]);
  });
});

import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { DatabasePool } from './database-pool.ts';
import { createPGlitePool } from './pglite-pool.ts';
import { preparingPool } from './prepared-statements.ts';
import type { DB } from './schema.ts';

/** Where the data lives: embedded PGlite (a folder, or `memory://`) or a PostgreSQL server. */
export type DatabaseOptions =
  | { readonly kind: 'pglite'; readonly dataDir: string }
  | {
      readonly kind: 'postgres';
      readonly url: string;
      readonly maxConnections?: number;
      /**
       * How long an idle connection stays open, in ms (default 5 min). A new connection costs a
       * PostgreSQL backend's start, and each statement's first run on it a parse, a plan and cold
       * catalog caches: a creator's run after a quiet spell should not pay that.
       */
      readonly idleTimeoutMs?: number;
      /**
       * How long the server lets a session sit idle inside a transaction before ending it, in ms
       * (default 10 s). A process frozen mid-transaction (SIGSTOP, a VM pause, a partition) would
       * otherwise keep its row and advisory locks, blocking the workers taking over its runs.
       */
      readonly idleInTransactionTimeoutMs?: number;
    };

/** An open database: the typed Kysely instance and how to close it. */
export interface Database {
  readonly db: Kysely<DB>;
  readonly kind: DatabaseOptions['kind'];
  /** PostgreSQL's connection pool figures (PGlite has one connection and none). */
  readonly pool?: DatabasePool;
  /** Closes every connection (and stops PGlite). */
  close(): Promise<void>;
}

const INT8_OID = 20;
/** How long an idle pooled connection stays open by default (pg-pool's own default is 10 s). */
const IDLE_CONNECTION_MS = 5 * 60_000;

/**
 * Opens the database. PGlite is the embedded default; PostgreSQL when a URL is given. Both speak the
 * same SQL through Kysely's `PostgresDialect`; on PostgreSQL, statements marked as prepared (the
 * ledger's) are parsed once per connection. 64-bit integers are read as JavaScript numbers on
 * both (PGlite already does; `pg` would return strings).
 *
 * @example
 * ```ts
 * import { openDatabase } from '@vidgenie/server';
 * const database = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
 * await database.close();
 * ```
 */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.kind === 'pglite') {
    // PGlite creates only the last folder of the path: a first start in a fresh checkout
    // (`./.vidgenie/pglite`) needs the parents made.
    if (!options.dataDir.includes('://')) mkdirSync(options.dataDir, { recursive: true });
    const pglite = await PGlite.create(options.dataDir);
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: createPGlitePool(pglite) }) });
    return {
      db,
      kind: 'pglite',
      async close() {
        await db.destroy();
        await pglite.close();
      },
    };
  }
  const max = options.maxConnections ?? 10;
  const pool = new pg.Pool({
    connectionString: options.url,
    max,
    idleTimeoutMillis: options.idleTimeoutMs ?? IDLE_CONNECTION_MS,
    // Nothing here waits on anything but the database inside a transaction.
    idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs ?? 10_000,
    // A peer that vanished without closing (a machine lost) is found by TCP keepalives.
    keepAlive: true,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID && format !== 'binary'
          ? (value: string) => Number(value)
          : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle connection the server ends (restart, failover, `pg_terminate_backend`) emits an error
  // on the pool; without a listener it would crash the process. The pool drops that connection
  // and the next query opens a new one.
  pool.on('error', () => {});
  // The same for a connection in use (checked out for a transaction): the server ending it, e.g.
  // for idling in a transaction past the timeout, fails the next query with an error the caller
  // handles; unlistened, the client's error event would crash the process.
  pool.on('connect', (client) => client.on('error', () => {}));
  const listeners = new Set<(waitSeconds: number) => void>();
  const onAcquire = (waitMs: number) => {
    for (const listener of listeners) listener(waitMs / 1000);
  };
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: preparingPool(pool, onAcquire) }) });
  return {
    db,
    kind: 'postgres',
    pool: {
      counts: () => ({
        open: pool.totalCount,
        idle: pool.idleCount,
        waiting: pool.waitingCount,
        max,
      }),
      onAcquire(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    },
    close: () => db.destroy(),
  };
}

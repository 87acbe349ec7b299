import type { PGlite } from '@electric-sql/pglite';
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';

/**
 * Adapts one PGlite instance to the pool interface of Kysely's own `PostgresDialect`, so PGlite
 * runs the same SQL, adapter, introspector and migrator as PostgreSQL.
 *
 * PGlite is a single connection. The pool hands it to one borrower at a time (a FIFO mutex), so a
 * transaction's statements are never interleaved with another request's. Code must therefore never
 * query `db` while it holds a transaction on this pool: use the transaction object.
 *
 * Why not a dialect package: `kysely-pglite` pulls a CLI toolchain (oclif, kysely-codegen) into our
 * runtime, `kysely-pglite-dialect` wants Kysely 0.29 (Node >= 22). This is the 40 lines they add.
 * @internal
 */
export function createPGlitePool(pglite: PGlite): PostgresPool {
  let tail: Promise<void> = Promise.resolve();

  const query = async (
    sql: string,
    parameters: readonly unknown[],
  ): Promise<PostgresQueryResult<unknown>> => {
    const result = await pglite.query(sql, parameters as unknown[]);
    return {
      command: ((result as { command?: string }).command ??
        'SELECT') as PostgresQueryResult<unknown>['command'],
      rowCount: result.affectedRows ?? result.rows.length,
      rows: result.rows,
    };
  };
  // Kysely's client type overloads `query` with a cursor form that this pool never receives.
  const client = (release: () => void): PostgresPoolClient => ({
    query: query as unknown as PostgresPoolClient['query'],
    release,
  });

  return {
    connect() {
      const previous = tail;
      let release!: () => void;
      tail = new Promise<void>((resolve) => {
        release = resolve;
      });
      return previous.then(() => client(once(release)));
    },
    async end() {
      await tail;
    },
  };
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}

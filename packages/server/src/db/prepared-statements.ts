import { createHash } from 'node:crypto';
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import { type RawBuilder, sql } from 'kysely';
import type pg from 'pg';

const MARK = /^\/\* prepare:([a-z0-9_.-]+) \*\/ /;

/**
 * Marks a statement as prepared: put it first in a `sql` template
 * (sql`${prepared('ledger.reserve')} with account as …`). On PostgreSQL each connection then
 * parses and plans the statement once, under a name made of the label and a hash of its text, and
 * runs it by name afterwards; elsewhere (PGlite) the mark is a comment.
 *
 * For hot statements only, whose text is fixed and whose result columns are named (no `select *`
 * of a table: a column added by a later migration would change a prepared statement's result
 * type). The ledger bench measured it: the parse and plan of its three CTE statements were half of
 * PostgreSQL's time per ledger transaction.
 * @internal
 */
export function prepared(label: string): RawBuilder<unknown> {
  if (!/^[a-z0-9_.-]+$/.test(label)) throw new RangeError(`Invalid prepared statement label "${label}".`);
  return sql.raw(`/* prepare:${label} */ `);
}

/** Names already worked out, by statement text: marked texts are few and fixed. */
const names = new Map<string, string>();
/** Past this many texts the cache starts again (a guard: marked texts are meant to be fixed). */
const MAX_NAMES = 1024;

/** The name a marked statement is prepared under on each connection; undefined when unmarked. @internal */
export function preparedStatementName(text: string): string | undefined {
  const known = names.get(text);
  if (known !== undefined) return known;
  const label = MARK.exec(text)?.[1];
  if (label === undefined) return undefined;
  // The same label may carry texts that differ (an optional condition): one name per text.
  // Hashed once per text: a CPU profile at 500 users found the hash at 1 % of the server's time.
  const name = `${label}:${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
  if (names.size >= MAX_NAMES) names.clear();
  names.set(text, name);
  return name;
}

/**
 * Kysely's pool over a `pg.Pool`, running statements marked with {@link prepared} as named
 * prepared statements (node-postgres parses a name once per connection and binds it after that).
 * Everything else goes through unchanged.
 * @internal
 */
export function preparingPool(
  pool: pg.Pool,
  /** Told how long each connection took to hand out, in ms. */
  onAcquire?: (waitMs: number) => void,
): PostgresPool {
  const wrap = (client: pg.PoolClient): PostgresPoolClient => {
    const query = (text: unknown, parameters?: readonly unknown[]) => {
      // Only with parameters: without, node-postgres uses the simple protocol (several statements
      // in one text, as migrations send), which has no names.
      const name =
        typeof text === 'string' && parameters !== undefined && parameters.length > 0
          ? preparedStatementName(text)
          : undefined;
      if (name !== undefined)
        return client.query({ name, text: text as string, values: [...(parameters ?? [])] });
      return client.query(text as string, parameters as unknown[] | undefined);
    };
    return {
      query: query as unknown as PostgresPoolClient['query'],
      release: (destroy?: boolean) => client.release(destroy),
    };
  };
  return {
    connect: async () => {
      if (onAcquire === undefined) return wrap(await pool.connect());
      const began = performance.now();
      const client = await pool.connect();
      onAcquire(performance.now() - began);
      return wrap(client);
    },
    end: () => pool.end(),
  };
}

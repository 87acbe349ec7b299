import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.ts';
import { TimeoutError, withTimeout } from './with-timeout.ts';

/** What `GET /readyz` reports: each check `ok`, or why it failed. */
export interface Readiness {
  readonly ready: boolean;
  readonly checks: {
    /** `select 1` answered within the timeout (`ok`), else `timeout` or `unreachable`. */
    readonly database: 'ok' | 'timeout' | 'unreachable';
    /** `ok`, or `closing` once the services started shutting down. */
    readonly shutdown: 'ok' | 'closing';
  };
}

/**
 * Whether this server should get traffic: the database answers `select 1` within `timeoutMs`
 * (default 2 s) and the services are not closing. Never throws.
 * @internal
 */
export async function checkReadiness(args: {
  readonly db: Kysely<DB>;
  readonly isClosing: () => boolean;
  readonly timeoutMs?: number;
}): Promise<Readiness> {
  const shutdown = args.isClosing() ? 'closing' : 'ok';
  let database: Readiness['checks']['database'] = 'ok';
  try {
    await withTimeout(sql`select 1`.execute(args.db), args.timeoutMs ?? 2000);
  } catch (error) {
    database = error instanceof TimeoutError ? 'timeout' : 'unreachable';
  }
  return { ready: shutdown === 'ok' && database === 'ok', checks: { database, shutdown } };
}

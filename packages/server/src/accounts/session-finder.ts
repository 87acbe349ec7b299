import { type Kysely, sql } from 'kysely';
import { gather } from '../db/gather.ts';
import { prepared } from '../db/prepared-statements.ts';
import type { DB, UserRole } from '../db/schema.ts';
import { hashToken } from './secret-token.ts';
import { SESSION_ABSOLUTE_MS, SESSION_IDLE_MS } from './sessions.ts';

/** `last_seen_at` is written at most this often, not on every request. */
const TOUCH_EVERY_MS = 5 * 60_000;

/** Who a live session belongs to. */
export interface FoundSession {
  readonly userId: string;
  readonly role: UserRole;
}

/**
 * The user behind a session token, or undefined when the token is unknown or expired. The auth
 * middleware calls `AppServices.findSession`, which `createServices` builds: lookups made at the
 * same time share one statement, and a session used after five minutes has its idle expiry slid
 * forward.
 */
export type SessionFinder = (args: {
  readonly token: string;
  readonly now: Date;
}) => Promise<FoundSession | undefined>;

interface SessionRow {
  readonly token_hash: string;
  readonly user_id: string;
  readonly role: UserRole;
  readonly created_at: Date;
  readonly last_seen_at: Date;
  readonly expires_at: Date;
}

/**
 * Finds sessions for the auth middleware. Lookups are gathered ({@link gather}): a burst of
 * requests (every creator pressing Run, then opening the run's event stream) makes a few
 * statements, not one each. A session used after `TOUCH_EVERY_MS` has its idle expiry slid
 * forward (never past the absolute lifetime), in a statement of its own.
 * @internal
 */
export function createSessionFinder(db: Kysely<DB>): SessionFinder {
  const read = gather<string, SessionRow | undefined>({
    send: async (hashes) => {
      const { rows } = await sql<SessionRow>`${prepared('sessions.find')}
        select s.token_hash, s.user_id, u.role, s.created_at, s.last_seen_at, s.expires_at
          from sessions s join users u on u.id = s.user_id
         where s.token_hash = any(${hashes}::text[])`.execute(db);
      const byHash = new Map(rows.map((row) => [row.token_hash, row]));
      return hashes.map((hash) => byHash.get(hash));
    },
  });
  return async ({ token, now }) => {
    const tokenHash = hashToken(token);
    const row = await read(tokenHash);
    if (row === undefined || row.expires_at.getTime() <= now.getTime()) return undefined;
    if (now.getTime() - row.last_seen_at.getTime() >= TOUCH_EVERY_MS) {
      const expires = Math.min(
        now.getTime() + SESSION_IDLE_MS,
        row.created_at.getTime() + SESSION_ABSOLUTE_MS,
      );
      await db
        .updateTable('sessions')
        .set({ last_seen_at: now, expires_at: new Date(expires) })
        .where('token_hash', '=', tokenHash)
        .execute();
    }
    return { userId: row.user_id, role: row.role };
  };
}

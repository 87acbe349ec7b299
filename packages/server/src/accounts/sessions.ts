import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { hashToken, newSecretToken } from './secret-token.ts';

/** Absolute session lifetime: a session ends 30 days after sign-in, however active. */
export const SESSION_ABSOLUTE_MS = 30 * 24 * 3600_000;
/** Idle timeout: a session unused for 7 days ends. */
export const SESSION_IDLE_MS = 7 * 24 * 3600_000;

/**
 * Starts a session: a fresh 256-bit token (returned once, for the cookie) whose SHA-256 is stored.
 * @internal
 */
export async function createSession(db: Kysely<DB>, args: { userId: string; now: Date }): Promise<string> {
  const token = newSecretToken('');
  await db
    .insertInto('sessions')
    .values({
      token_hash: hashToken(token),
      user_id: args.userId,
      created_at: args.now,
      last_seen_at: args.now,
      expires_at: new Date(args.now.getTime() + SESSION_IDLE_MS),
    })
    .execute();
  return token;
}

/** Ends one session (logout). @internal */
export async function deleteSession(db: Kysely<DB>, token: string): Promise<void> {
  await db.deleteFrom('sessions').where('token_hash', '=', hashToken(token)).execute();
}

/** Ends every session of a user except, optionally, the current one. Returns how many ended. @internal */
export async function deleteOtherSessions(
  db: Kysely<DB>,
  args: { userId: string; keepToken?: string | undefined },
): Promise<number> {
  let query = db.deleteFrom('sessions').where('user_id', '=', args.userId);
  if (args.keepToken !== undefined) query = query.where('token_hash', '!=', hashToken(args.keepToken));
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}

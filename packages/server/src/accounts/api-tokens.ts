import type { Kysely } from 'kysely';
import type { DB, UserRole } from '../db/schema.ts';
import { ApiError } from '../errors/api-error.ts';
import { newId } from '../ids/new-id.ts';
import { hashToken, newSecretToken } from './secret-token.ts';

/** Every personal API token starts with this, so secret scanners can recognise a leaked one. */
export const API_TOKEN_PREFIX = 'vgt_';

/** A personal API token as listed: never the token itself. */
export interface ApiTokenSummary {
  readonly id: string;
  readonly name: string;
  readonly prefix: string;
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
}

/** Creates a token; the plaintext is returned once and only its SHA-256 is stored. @internal */
export async function createApiToken(
  db: Kysely<DB>,
  args: { userId: string; name: string },
): Promise<ApiTokenSummary & { token: string }> {
  const token = newSecretToken(API_TOKEN_PREFIX);
  const row = await db
    .insertInto('api_tokens')
    .values({
      id: newId('tok'),
      user_id: args.userId,
      name: args.name,
      token_hash: hashToken(token),
      prefix: token.slice(0, API_TOKEN_PREFIX.length + 4),
    })
    .returning(['id', 'name', 'prefix', 'created_at', 'last_used_at'])
    .executeTakeFirstOrThrow();
  return { ...toSummary(row), token };
}

/** The caller's live tokens, newest first. @internal */
export async function listApiTokens(db: Kysely<DB>, userId: string): Promise<ApiTokenSummary[]> {
  const rows = await db
    .selectFrom('api_tokens')
    .select(['id', 'name', 'prefix', 'created_at', 'last_used_at'])
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .orderBy('created_at', 'desc')
    .execute();
  return rows.map(toSummary);
}

/** Revokes one of the caller's tokens; 404 if it is not theirs or already revoked. @internal */
export async function revokeApiToken(
  db: Kysely<DB>,
  args: { userId: string; tokenId: string; now: Date },
): Promise<void> {
  const result = await db
    .updateTable('api_tokens')
    .set({ revoked_at: args.now })
    .where('id', '=', args.tokenId)
    .where('user_id', '=', args.userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) throw new ApiError('NOT_FOUND', 'No such API token.');
}

/** The user behind a Bearer token, or undefined. Records when it was last used (at most once a minute). @internal */
export async function findApiToken(
  db: Kysely<DB>,
  args: { token: string; now: Date },
): Promise<{ userId: string; role: UserRole } | undefined> {
  if (!args.token.startsWith(API_TOKEN_PREFIX)) return undefined;
  const tokenHash = hashToken(args.token);
  const row = await db
    .selectFrom('api_tokens')
    .innerJoin('users', 'users.id', 'api_tokens.user_id')
    .select(['api_tokens.id', 'api_tokens.user_id', 'api_tokens.last_used_at', 'users.role'])
    .where('api_tokens.token_hash', '=', tokenHash)
    .where('api_tokens.revoked_at', 'is', null)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  if (row.last_used_at === null || args.now.getTime() - row.last_used_at.getTime() > 60_000) {
    await db.updateTable('api_tokens').set({ last_used_at: args.now }).where('id', '=', row.id).execute();
  }
  return { userId: row.user_id, role: row.role };
}

function toSummary(row: {
  id: string;
  name: string;
  prefix: string;
  created_at: Date;
  last_used_at: Date | null;
}): ApiTokenSummary {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}

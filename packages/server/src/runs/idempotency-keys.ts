import { createHash } from 'node:crypto';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import { ApiError } from '../errors/api-error.ts';
import { canonicalJson } from './canonical-json.ts';

/** How long a stored response answers its key: 24 hours (as Stripe: pruned after at least 24 h). */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 3_600_000;

/** A request sent with an `Idempotency-Key` header. */
export interface IdempotentRequest {
  /** The header's value (1 to 255 characters). */
  readonly key: string;
  /** `hashIdempotentRequest` of the operation and its parameters. */
  readonly requestHash: string;
}

/** A response stored under an idempotency key. */
export interface StoredResponse {
  readonly statusCode: number;
  readonly body: Readonly<Record<string, unknown>>;
}

/**
 * The hash a key's request is compared with: SHA-256 of the operation (`POST /api/workflow/execute`)
 * and its parameters as canonical JSON, so key order and whitespace do not matter.
 * @internal
 */
export function hashIdempotentRequest(operation: string, parameters: unknown): string {
  return createHash('sha256').update(canonicalJson({ operation, parameters })).digest('hex');
}

const cutoff = (now: Date) => new Date(now.getTime() - IDEMPOTENCY_KEY_TTL_MS);

function replayOrConflict(
  row: { request_hash: string; status_code: number; response_body: object },
  request: IdempotentRequest,
): StoredResponse {
  if (row.request_hash !== request.requestHash) {
    throw new ApiError(
      'IDEMPOTENCY_CONFLICT',
      'This Idempotency-Key was used with another request: use a new key for a new request.',
    );
  }
  return { statusCode: row.status_code, body: row.response_body as Record<string, unknown> };
}

/**
 * The response stored for a user's key, if any (pruning the user's keys older than 24 h first, so a
 * pruned key starts a new request). 409 `IDEMPOTENCY_CONFLICT` when the key was used with another
 * request. Called before validating: a replay answers as the first request did.
 * @internal
 */
export async function findStoredResponse(
  db: Kysely<DB>,
  args: { readonly userId: string; readonly request: IdempotentRequest; readonly now: Date },
): Promise<StoredResponse | undefined> {
  await db
    .deleteFrom('idempotency_keys')
    .where('user_id', '=', args.userId)
    .where('created_at', '<', cutoff(args.now))
    .execute();
  const row = await db
    .selectFrom('idempotency_keys')
    .select(['request_hash', 'status_code', 'response_body'])
    .where('user_id', '=', args.userId)
    .where('key', '=', args.request.key)
    .executeTakeFirst();
  return row === undefined ? undefined : replayOrConflict(row, args.request);
}

/**
 * Claims a key inside the transaction that does the request's work, storing its response. The
 * primary key (user, key) is the lock: a concurrent request with the same key waits on this row
 * until the transaction ends. Returns undefined when this transaction holds the key (its work must
 * follow, in the same transaction: a rollback, e.g. a 402, stores nothing), or the response the
 * winner stored (409 `IDEMPOTENCY_CONFLICT` if its request differed): do no work then.
 * @internal
 */
export async function claimIdempotencyKey(
  trx: Transaction<DB>,
  args: {
    readonly userId: string;
    readonly request: IdempotentRequest;
    readonly response: StoredResponse;
    readonly now: Date;
  },
): Promise<StoredResponse | undefined> {
  await trx
    .deleteFrom('idempotency_keys')
    .where('user_id', '=', args.userId)
    .where('key', '=', args.request.key)
    .where('created_at', '<', cutoff(args.now))
    .execute();
  const { rows } = await sql<{ key: string }>`
    insert into idempotency_keys (user_id, key, request_hash, status_code, response_body, created_at)
    values (${args.userId}, ${args.request.key}, ${args.request.requestHash}, ${args.response.statusCode},
            ${JSON.stringify(args.response.body)}::jsonb, ${args.now}::timestamptz)
    on conflict (user_id, key) do nothing
    returning key`.execute(trx);
  if (rows.length > 0) return undefined;
  const row = await trx
    .selectFrom('idempotency_keys')
    .select(['request_hash', 'status_code', 'response_body'])
    .where('user_id', '=', args.userId)
    .where('key', '=', args.request.key)
    .executeTakeFirstOrThrow();
  return replayOrConflict(row, args.request);
}

/**
 * Deletes every stored response older than 24 h (all users); returns how many. Keys are also pruned
 * lazily per user when used; call this from a maintenance loop to bound the table.
 *
 * @example
 * ```ts
 * import { createServices, loadConfig, pruneIdempotencyKeys } from '@vidgenie/server';
 * const services = await createServices(loadConfig({ VIDGENIE_DATA_DIR: './.vidgenie-example' }));
 * console.log(await pruneIdempotencyKeys(services.db)); // 0
 * await services.close();
 * ```
 */
export async function pruneIdempotencyKeys(db: Kysely<DB>, now: Date = new Date()): Promise<number> {
  const result = await db
    .deleteFrom('idempotency_keys')
    .where('created_at', '<', cutoff(now))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

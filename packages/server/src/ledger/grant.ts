import { sql } from 'kysely';
import { ApiError } from '../errors/api-error.ts';
import { newId } from '../ids/new-id.ts';
import { assertCredits } from './assert-credits.ts';
import { entryKeys } from './entry-keys.ts';
import type { LedgerContext } from './ledger-context.ts';
import { retryTransient, sqlStateOf } from './retry-transient.ts';

/** Arguments of `CreditLedger.grant`. */
export interface GrantArgs {
  readonly userId: string;
  /** Credits to add (at least 1). */
  readonly amount: number;
  /** Shown in the history, e.g. "Support: refund for a failed render". */
  readonly reason: string;
  /** `grant` (an admin's gift, the default) or `purchase` (credits bought, for later). */
  readonly kind?: 'grant' | 'purchase';
  /** The admin who granted them; null for the system. */
  readonly actorUserId?: string | null;
  /**
   * Makes the grant happen at most once per user and key (Stripe-like): the same key again
   * returns the first result; with another amount or kind it is a 409 `IDEMPOTENCY_CONFLICT`.
   * Without one, each call is a new grant.
   */
  readonly idempotencyKey?: string;
}

/** The result of a grant: the entry and the account right after it. */
export interface GrantResult {
  readonly entryId: string;
  readonly balance: number;
  readonly held: number;
  /** True when the idempotency key had been used: nothing new was granted. */
  readonly replayed: boolean;
}

interface GrantRow {
  id: string;
  balance_after: number;
  held_after: number;
}

/**
 * Adds credits to an account (`grant` or `purchase` entry) in one statement: the balance update
 * runs only while the entry's idempotency key is unused; a concurrent duplicate loses on the
 * key's unique index and its retry returns the winner's result.
 * @internal
 */
export async function grant(ctx: LedgerContext, args: GrantArgs): Promise<GrantResult> {
  assertCredits('amount', args.amount, 1);
  const kind = args.kind ?? 'grant';
  const key = entryKeys.grant(args.userId, args.idempotencyKey ?? newId('grant'));
  try {
    return await retryTransient(
      async () => {
        const now = ctx.now();
        const { rows } = await sql<GrantRow>`
          with account as (
            update credit_accounts
               set balance = balance + ${args.amount}, updated_at = ${now}
             where user_id = ${args.userId}
               and not exists (select 1 from ledger_entries where idempotency_key = ${key})
            returning user_id, balance, held
          ), entry as (
            insert into ledger_entries (id, user_id, kind, balance_delta, held_delta, balance_after, held_after,
                                        reason, idempotency_key, actor_user_id, created_at)
            select ${newId('led')}, user_id, ${kind}::text, ${args.amount}::integer, 0, balance, held,
                   ${args.reason}::text, ${key}::text, ${args.actorUserId ?? null}::text, ${now}::timestamptz
              from account
            returning id, balance_after, held_after
          )
          select * from entry`.execute(ctx.db);
        const row = rows[0];
        if (row !== undefined) {
          return { entryId: row.id, balance: row.balance_after, held: row.held_after, replayed: false };
        }
        return replayOf(ctx, { ...args, kind, key });
      },
      { onUniqueViolation: true },
    );
  } catch (error) {
    if (sqlStateOf(error) === '22003') {
      throw new ApiError('CONFLICT', 'This grant would take the balance past the largest supported value.');
    }
    throw error;
  }
}

async function replayOf(
  ctx: LedgerContext,
  args: GrantArgs & { readonly kind: 'grant' | 'purchase'; readonly key: string },
): Promise<GrantResult> {
  const entry = await ctx.db
    .selectFrom('ledger_entries')
    .select(['id', 'kind', 'balance_delta', 'balance_after', 'held_after'])
    .where('idempotency_key', '=', args.key)
    .executeTakeFirst();
  if (entry === undefined) throw new ApiError('NOT_FOUND', 'This user has no credit account.');
  if (entry.kind !== args.kind || entry.balance_delta !== args.amount) {
    throw new ApiError(
      'IDEMPOTENCY_CONFLICT',
      'This idempotency key was already used for another grant: use a new key for a new grant.',
    );
  }
  return { entryId: entry.id, balance: entry.balance_after, held: entry.held_after, replayed: true };
}

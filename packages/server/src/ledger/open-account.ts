import { type Kysely, sql } from 'kysely';
import type { CreditAccountRow, DB, PlanId } from '../db/schema.ts';
import { newId } from '../ids/new-id.ts';
import { type CreditAccount, toCreditAccount } from './credit-account.ts';
import { entryKeys } from './entry-keys.ts';
import { addMonths, PLANS } from './plans.ts';

/** Arguments of `CreditLedger.openAccount`. */
export interface OpenAccountArgs {
  readonly userId: string;
  readonly plan: PlanId;
}

/**
 * Opens a user's credit account on a plan, with its first period's allowance written as a
 * `renewal` entry, in one statement on `db`, which may be the caller's transaction (sign-up opens
 * the account in the transaction that creates the user). Idempotent: an account that already
 * exists is returned unchanged.
 * @internal
 */
export async function openAccount(
  db: Kysely<DB>,
  args: OpenAccountArgs & { readonly now: Date },
): Promise<CreditAccount> {
  const plan = PLANS[args.plan];
  const unlimited = plan.monthlyCredits === null;
  const allowance = plan.monthlyCredits ?? 0;
  const reason = unlimited
    ? `${label(args.plan)} plan: unlimited credits`
    : `${label(args.plan)} plan: ${allowance} credits for the month`;
  const { rows } = await sql<CreditAccountRow>`
    with account as (
      insert into credit_accounts (user_id, plan, balance, held, unlimited, period_start, renews_at, updated_at)
      values (${args.userId}, ${args.plan}, ${allowance}, 0, ${unlimited}, ${args.now}, ${addMonths(args.now, 1)},
              ${args.now})
      on conflict (user_id) do nothing
      returning *
    ), entry as (
      insert into ledger_entries (id, user_id, kind, balance_delta, held_delta, balance_after, held_after,
                                  reason, idempotency_key, created_at)
      select ${newId('led')}, user_id, 'renewal', balance, 0, balance, held, ${reason}::text,
             ${entryKeys.open(args.userId)}::text, ${args.now}::timestamptz
        from account
    )
    select * from account`.execute(db);
  const row =
    rows[0] ??
    (await db
      .selectFrom('credit_accounts')
      .selectAll()
      .where('user_id', '=', args.userId)
      .executeTakeFirstOrThrow());
  return toCreditAccount(row);
}

/** "free" → "Free". @internal */
export function label(plan: PlanId): string {
  return `${plan.charAt(0).toUpperCase()}${plan.slice(1)}`;
}

import { type RawBuilder, sql } from 'kysely';
import { prepared } from '../db/prepared-statements.ts';
import { newId } from '../ids/new-id.ts';
import { fenceCondition, type LeaseFence } from '../runs/lease-fence.ts';
import { entryKeys } from './entry-keys.ts';
import type { LedgerContext } from './ledger-context.ts';

/** How a hold ended. */
export type ResolvedState = 'released' | 'expired';

interface ResolvedRow {
  returned: number;
}

/**
 * Resolves a pending hold in one statement, locking the hold then the account: the hold becomes
 * `released` (or `expired`, only once `expires_at` has passed) with `returned = amount - captured`,
 * the account's `held` drops by that much, and one entry is written under the hold's `resolve`
 * key (unique, so a hold can be resolved once even if the state check were bypassed).
 * Returns what was returned, or undefined when the hold was not pending (or not yet expired).
 * @internal
 */
export async function resolveHold(
  ctx: LedgerContext,
  args: {
    readonly holdId: string;
    readonly state: ResolvedState;
    readonly reason: string;
    /** Resolve only while the run's lease epoch is this one. */
    readonly fence?: LeaseFence;
  },
): Promise<number | undefined> {
  const { rows } = await sql<ResolvedRow>`${prepared('ledger.resolve')}
    with ${resolveSteps({ ...args, now: ctx.now() })}
    select hold.returned from hold, account`.execute(ctx.db);
  return rows[0]?.returned;
}

/**
 * The resolution's steps as the CTEs `hold`, `account` and `entry`, for a statement to select
 * from (`hold.returned`: one row when the hold was resolved, none when nothing changed). `gate` is
 * a further condition on the hold's update, so a caller's own CTE (a checkpoint write) can decide
 * whether the resolution happens in the same statement.
 * @internal
 */
export function resolveSteps(args: {
  readonly holdId: string;
  readonly state: ResolvedState;
  readonly reason: string;
  readonly fence?: LeaseFence;
  readonly now: Date;
  readonly gate?: RawBuilder<unknown>;
}): RawBuilder<unknown> {
  const { now } = args;
  const expiredOnly = args.state === 'expired' ? sql`and expires_at <= ${now}` : sql``;
  return sql`hold as (
      update credit_holds
         set state = ${args.state}, returned = amount - captured, resolved_at = ${now}
       where id = ${args.holdId} and state = 'pending' ${expiredOnly} ${fenceCondition(args.fence)}
         ${args.gate ?? sql``}
      returning id, user_id, run_id, returned
    ), account as (
      update credit_accounts
         set held = credit_accounts.held - hold.returned, updated_at = ${now}
        from hold
       where credit_accounts.user_id = hold.user_id
      returning credit_accounts.user_id, credit_accounts.balance, credit_accounts.held
    ), entry as (
      insert into ledger_entries (id, user_id, kind, balance_delta, held_delta, balance_after, held_after,
                                  reason, run_id, hold_id, idempotency_key, created_at)
      select ${newId('led')}, account.user_id, ${args.state === 'released' ? 'release' : 'expire'}::text, 0,
             -hold.returned, account.balance, account.held, ${args.reason}::text, hold.run_id, hold.id,
             ${entryKeys.resolve(args.holdId)}::text, ${now}::timestamptz
        from account, hold
    )`;
}

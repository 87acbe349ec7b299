import type { PlanId } from '../db/schema.ts';
import { ApiError } from '../errors/api-error.ts';
import { newId } from '../ids/new-id.ts';
import { type CreditAccount, toCreditAccount } from './credit-account.ts';
import { entryKeys } from './entry-keys.ts';
import type { LedgerContext } from './ledger-context.ts';
import { label } from './open-account.ts';
import { addMonths, PLANS, renewalTopUp } from './plans.ts';
import { retryTransient } from './retry-transient.ts';

/** Arguments of `CreditLedger.setPlan`. */
export interface SetPlanArgs {
  readonly userId: string;
  readonly plan: PlanId;
  /** Who changed it (an admin, or the user through billing later); null for the system. */
  readonly actorUserId?: string | null;
}

/**
 * Moves an account to another plan. A new period starts now, and the balance is topped up to the
 * new allowance by the renewal rule (never taken away; see `renewalTopUp`), as a `renewal` entry.
 * Leaving an unlimited plan tops a negative balance up to the allowance; if running holds exceed
 * it, the change is refused with 409 `CONFLICT` (retry once those runs end). The same plan again
 * changes nothing.
 * @internal
 */
export async function setPlan(ctx: LedgerContext, args: SetPlanArgs): Promise<CreditAccount> {
  return retryTransient(() =>
    ctx.db.transaction().execute(async (trx) => {
      const account = await trx
        .selectFrom('credit_accounts')
        .selectAll()
        .where('user_id', '=', args.userId)
        .forUpdate()
        .executeTakeFirst();
      if (account === undefined) throw new ApiError('NOT_FOUND', 'This user has no credit account.');
      if (account.plan === args.plan) return toCreditAccount(account);

      const now = ctx.now();
      const unlimited = PLANS[args.plan].monthlyCredits === null;
      const topUp = renewalTopUp({ plan: args.plan, balance: account.balance });
      const balance = account.balance + topUp;
      if (!unlimited && account.held > balance) {
        throw new ApiError(
          'CONFLICT',
          `Runs in progress hold ${account.held} credits, more than the ${args.plan} plan's balance would be: try again once they end.`,
          { details: { held: account.held, balance } },
        );
      }
      const updated = await trx
        .updateTable('credit_accounts')
        .set({
          plan: args.plan,
          unlimited,
          balance,
          period_start: now,
          renews_at: addMonths(now, 1),
          updated_at: now,
        })
        .where('user_id', '=', args.userId)
        .returningAll()
        .executeTakeFirstOrThrow();
      await trx
        .insertInto('ledger_entries')
        .values({
          id: newId('led'),
          user_id: args.userId,
          kind: 'renewal',
          balance_delta: topUp,
          held_delta: 0,
          balance_after: updated.balance,
          held_after: updated.held,
          reason: `Plan changed from ${label(account.plan)} to ${label(args.plan)}`,
          run_id: null,
          node_id: null,
          hold_id: null,
          idempotency_key: entryKeys.plan(args.userId, newId('plan')),
          actor_user_id: args.actorUserId ?? null,
          created_at: now,
        })
        .execute();
      return toCreditAccount(updated);
    }),
  );
}

import { newId } from '../ids/new-id.ts';
import { entryKeys } from './entry-keys.ts';
import type { LedgerContext } from './ledger-context.ts';
import { label } from './open-account.ts';
import { currentPeriod, renewalTopUp } from './plans.ts';
import { retryTransient } from './retry-transient.ts';

/** What a renewal pass did. */
export interface RenewReport {
  /** Accounts that started a new period. */
  readonly renewed: number;
  /** Credits added by the top-ups. */
  readonly credited: number;
}

/**
 * Renews every account whose period has ended: the balance is topped up to the plan's allowance
 * (`renewalTopUp`: never taken away), a new period starts at the old renewal date (periods missed
 * while the server was down are skipped, not paid twice), and a `renewal` entry is written under a
 * key unique per (account, period). Each account is renewed in its own transaction, holding its row
 * lock, so two servers running this at once renew each account once.
 * @internal
 */
export async function renewDue(
  ctx: LedgerContext,
  options: { readonly batchSize?: number } = {},
): Promise<RenewReport> {
  const batchSize = options.batchSize ?? 200;
  let renewed = 0;
  let credited = 0;
  let after = '';
  for (;;) {
    const due = await ctx.db
      .selectFrom('credit_accounts')
      .select('user_id')
      .where('renews_at', '<=', ctx.now())
      .where('user_id', '>', after)
      .orderBy('user_id')
      .limit(batchSize)
      .execute();
    for (const { user_id } of due) {
      const topUp = await retryTransient(() => renewAccount(ctx, user_id), { onUniqueViolation: true });
      if (topUp !== undefined) {
        renewed += 1;
        credited += topUp;
      }
    }
    if (due.length < batchSize) return { renewed, credited };
    after = due.at(-1)?.user_id ?? after;
  }
}

/** Renews one account if it is still due; the credits added, or undefined if it was not due. */
async function renewAccount(ctx: LedgerContext, userId: string): Promise<number | undefined> {
  return ctx.db.transaction().execute(async (trx) => {
    const now = ctx.now();
    const account = await trx
      .selectFrom('credit_accounts')
      .select(['plan', 'balance', 'unlimited', 'renews_at'])
      .where('user_id', '=', userId)
      .where('renews_at', '<=', now)
      .forUpdate()
      .executeTakeFirst();
    if (account === undefined) return undefined;
    const period = currentPeriod({ renewsAt: new Date(account.renews_at), now });
    const topUp = account.unlimited ? 0 : renewalTopUp({ plan: account.plan, balance: account.balance });
    const updated = await trx
      .updateTable('credit_accounts')
      .set((eb) => ({
        balance: eb('balance', '+', topUp),
        period_start: period.start,
        renews_at: period.renewsAt,
        updated_at: now,
      }))
      .where('user_id', '=', userId)
      .returning(['balance', 'held'])
      .executeTakeFirstOrThrow();
    await trx
      .insertInto('ledger_entries')
      .values({
        id: newId('led'),
        user_id: userId,
        kind: 'renewal',
        balance_delta: topUp,
        held_delta: 0,
        balance_after: updated.balance,
        held_after: updated.held,
        reason: `${label(account.plan)} plan renewed`,
        run_id: null,
        node_id: null,
        hold_id: null,
        idempotency_key: entryKeys.renewal(userId, period.start),
        actor_user_id: null,
        created_at: now,
      })
      .execute();
    return topUp;
  });
}

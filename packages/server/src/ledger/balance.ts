import { sql } from 'kysely';
import type { PlanId } from '../db/schema.ts';
import { ApiError } from '../errors/api-error.ts';
import type { LedgerContext } from './ledger-context.ts';
import { usageWindows } from './usage-windows.ts';

/** An account's figures, as the credits widget shows them (PRD 5.3). */
export interface CreditBalance {
  readonly plan: PlanId;
  readonly balance: number;
  readonly held: number;
  /** `balance - held`: what a new run can reserve; null for an unlimited account. */
  readonly available: number | null;
  readonly unlimited: boolean;
  readonly periodStart: Date;
  readonly renewsAt: Date;
  /** Credits captured since 00:00 UTC today. */
  readonly usedToday: number;
  /** Credits captured since Monday 00:00 UTC. */
  readonly usedThisWeek: number;
}

interface UsageRow {
  used_today: number | string;
  used_this_week: number | string;
}

/**
 * Reads an account and what it spent today and this week (the sum of its captures in each
 * window). 404 when the user has no account.
 * @internal
 */
export async function readBalance(ctx: LedgerContext, userId: string): Promise<CreditBalance> {
  const { dayStart, weekStart } = usageWindows(ctx.now());
  const account = await ctx.db
    .selectFrom('credit_accounts')
    .selectAll()
    .where('user_id', '=', userId)
    .executeTakeFirst();
  if (account === undefined) throw new ApiError('NOT_FOUND', 'This user has no credit account.');
  const { rows } = await sql<UsageRow>`
    select coalesce(sum(-balance_delta) filter (where created_at >= ${dayStart}), 0) as used_today,
           coalesce(sum(-balance_delta), 0) as used_this_week
      from ledger_entries
     where user_id = ${userId} and kind = 'capture' and created_at >= ${weekStart}`.execute(ctx.db);
  const usage = rows[0];
  return {
    plan: account.plan,
    balance: account.balance,
    held: account.held,
    available: account.unlimited ? null : account.balance - account.held,
    unlimited: account.unlimited,
    periodStart: new Date(account.period_start),
    renewsAt: new Date(account.renews_at),
    usedToday: Number(usage?.used_today ?? 0),
    usedThisWeek: Number(usage?.used_this_week ?? 0),
  };
}

import type { PlanId } from '../db/schema.ts';

/** What a subscription plan gives each month. */
export interface Plan {
  readonly id: PlanId;
  /** Credits the plan renews to each period; `null` for an unlimited plan. */
  readonly monthlyCredits: number | null;
  /** The monthly price in US dollars (PRD 5.2); billing itself comes later. */
  readonly priceUsd: number;
}

/**
 * The subscription plans (PRD 5.2): free 100 credits a month, starter 500, pro 2000, enterprise
 * unlimited.
 *
 * @example
 * ```ts
 * import { PLANS } from '@vidgenie/server';
 * console.log(PLANS.pro.monthlyCredits); // 2000
 * ```
 */
export const PLANS: Readonly<Record<PlanId, Plan>> = Object.freeze({
  free: Object.freeze({ id: 'free', monthlyCredits: 100, priceUsd: 0 }),
  starter: Object.freeze({ id: 'starter', monthlyCredits: 500, priceUsd: 9.99 }),
  pro: Object.freeze({ id: 'pro', monthlyCredits: 2000, priceUsd: 29.99 }),
  enterprise: Object.freeze({ id: 'enterprise', monthlyCredits: null, priceUsd: 99.99 }),
});

/** Every plan id, in ascending order. */
export const PLAN_IDS: readonly PlanId[] = Object.freeze(['free', 'starter', 'pro', 'enterprise']);

/**
 * The renewal rule: **top up to the allowance, never take away**. At each renewal a limited
 * account's balance becomes `max(balance, allowance)`: unused allowance does not roll over, and
 * credits granted or purchased beyond the allowance are never removed. Unlimited plans are left
 * as they are. Returns the change to the balance (never negative).
 *
 * Why not "reset the allowance": it would need the allowance and the extra credits kept as two
 * buckets (and a rule for which one a capture spends first); topping up gives the same result
 * for everyone who only uses the allowance, and never takes away credits someone paid for.
 *
 * @example
 * ```ts
 * import { renewalTopUp } from '@vidgenie/server';
 * renewalTopUp({ plan: 'free', balance: 30 }); // 70
 * renewalTopUp({ plan: 'free', balance: 250 }); // 0
 * ```
 */
export function renewalTopUp(args: { readonly plan: PlanId; readonly balance: number }): number {
  const allowance = PLANS[args.plan].monthlyCredits;
  return allowance === null ? 0 : Math.max(0, allowance - args.balance);
}

/**
 * `date` plus `months` calendar months in UTC, clamped to the end of a shorter month (Jan 31 + 1
 * month = Feb 28 or 29).
 *
 * @example
 * ```ts
 * import { addMonths } from '@vidgenie/server';
 * addMonths(new Date('2025-01-31T09:00:00Z'), 1).toISOString(); // '2025-02-28T09:00:00.000Z'
 * ```
 */
export function addMonths(date: Date, months: number): Date {
  const result = new Date(date.getTime());
  const day = result.getUTCDate();
  result.setUTCDate(1);
  result.setUTCMonth(result.getUTCMonth() + months);
  const lastDay = new Date(Date.UTC(result.getUTCFullYear(), result.getUTCMonth() + 1, 0)).getUTCDate();
  result.setUTCDate(Math.min(day, lastDay));
  return result;
}

/** A billing period: from `start` (included) to `renewsAt` (excluded). */
export interface BillingPeriod {
  readonly start: Date;
  readonly renewsAt: Date;
}

/**
 * The period that contains `now`, stepping month by month from a period that ended at
 * `renewsAt`. Periods missed while the server was down are skipped (one renewal, not several:
 * the top-up is not cumulative).
 *
 * @example
 * ```ts
 * import { currentPeriod } from '@vidgenie/server';
 * const period = currentPeriod({ renewsAt: new Date('2025-01-10T00:00:00Z'), now: new Date('2025-03-15T00:00:00Z') });
 * period.start.toISOString(); // '2025-03-10T00:00:00.000Z'
 * ```
 */
export function currentPeriod(args: { readonly renewsAt: Date; readonly now: Date }): BillingPeriod {
  let start = args.renewsAt;
  let next = addMonths(start, 1);
  while (next.getTime() <= args.now.getTime()) {
    start = next;
    next = addMonths(start, 1);
  }
  return { start, renewsAt: next };
}

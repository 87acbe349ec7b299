import type { CreditAccountRow, PlanId } from '../db/schema.ts';

/** A user's credit account. `available = balance - held` (unless `unlimited`). */
export interface CreditAccount {
  readonly userId: string;
  readonly plan: PlanId;
  /** Posted credits: allowance, grants and purchases minus captures. */
  readonly balance: number;
  /** Credits held by pending holds (not yet captured or returned). */
  readonly held: number;
  /** Enterprise: holds never fail for lack of credits; the balance may go below zero. */
  readonly unlimited: boolean;
  readonly periodStart: Date;
  readonly renewsAt: Date;
}

/** Maps a `credit_accounts` row. @internal */
export function toCreditAccount(row: CreditAccountRow): CreditAccount {
  return {
    userId: row.user_id,
    plan: row.plan,
    balance: row.balance,
    held: row.held,
    unlimited: row.unlimited,
    periodStart: new Date(row.period_start),
    renewsAt: new Date(row.renews_at),
  };
}

import { type RawBuilder, sql } from 'kysely';
import { ApiError } from '../errors/api-error.ts';
import type { LedgerContext } from './ledger-context.ts';

const DAY_MS = 86_400_000;

/** The UTC day of `now` as `YYYY-MM-DD` (the cap's window, and the capture trigger's day). @internal */
export function utcDay(now: Date): string {
  return now.toISOString().slice(0, 10);
}

/**
 * The cap part of the reserve's `WHERE`, on the `credit_accounts` row being updated: the account's
 * own cap, else the server's default; with one, `held + captured today + amount <= cap`. Every
 * term is a column of the locked row (`captured_today` is kept by the capture trigger of
 * migration 0007), so a concurrent reserve or capture is seen when Read Committed re-checks the
 * condition on the row's newest version: parallel reserves cannot pass the cap together.
 * @internal
 */
export function dailyCapCondition(ctx: LedgerContext, amount: number): RawBuilder<unknown> {
  const cap = sql`coalesce(daily_credit_cap, ${ctx.dailyCreditCap ?? null}::integer)`;
  return sql`(${cap} is null or held + ${capturedToday(ctx)} + ${amount}::integer <= ${cap})`;
}

/** `captured_today` when it is today's, else 0, as a SQL expression over `credit_accounts`. @internal */
export function capturedToday(ctx: LedgerContext): RawBuilder<number> {
  return sql<number>`(case when captured_day = ${utcDay(ctx.now())}::date then captured_today else 0 end)`;
}

/**
 * The 429 `DAILY_CAP_REACHED` refusal: `details` has `required` (the amount), `available` (what
 * the cap still allows today), `cap`, `usedToday` and `resetsAt` (next UTC midnight), and
 * `Retry-After` says when the window turns. 429 rather than 402: buying credits would not help,
 * waiting (or an admin raising the cap) does.
 * @internal
 */
export function dailyCapReached(args: {
  readonly amount: number;
  readonly cap: number;
  readonly usedToday: number;
  readonly now: Date;
}): ApiError {
  const available = Math.max(0, args.cap - args.usedToday);
  const resetsAt = new Date((Math.floor(args.now.getTime() / DAY_MS) + 1) * DAY_MS);
  const retryAfter = Math.max(1, Math.ceil((resetsAt.getTime() - args.now.getTime()) / 1000));
  return new ApiError(
    'DAILY_CAP_REACHED',
    `This needs ${args.amount} credits but your daily limit of ${args.cap} allows only ${available} more today (it resets at midnight UTC).`,
    {
      details: {
        required: args.amount,
        available,
        cap: args.cap,
        usedToday: args.usedToday,
        resetsAt: resetsAt.toISOString(),
      },
      headers: { 'Retry-After': String(retryAfter) },
    },
  );
}

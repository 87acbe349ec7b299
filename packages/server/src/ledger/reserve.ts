import { type RawBuilder, sql } from 'kysely';
import { prepared } from '../db/prepared-statements.ts';
import { ApiError } from '../errors/api-error.ts';
import { newId } from '../ids/new-id.ts';
import { assertCredits } from './assert-credits.ts';
import { type CreditHold, HOLD_COLUMNS, type HoldRow, toCreditHold } from './credit-hold.ts';
import { capturedToday, dailyCapCondition, dailyCapReached } from './daily-credit-cap.ts';
import { entryKeys } from './entry-keys.ts';
import type { LedgerContext } from './ledger-context.ts';
import { retryTransient } from './retry-transient.ts';

/** Arguments of `CreditLedger.reserve`. */
export interface ReserveArgs {
  readonly userId: string;
  /** The run the hold is for. The run id is the idempotency key: one hold per run, ever. */
  readonly runId: string;
  /** Credits to hold (the run's estimate). */
  readonly amount: number;
  /** After this long, a hold still pending is expired by the sweeper (its run is presumed dead). */
  readonly expiresInMs: number;
  /** Shown in the history; defaults to "Hold for run <runId>". */
  readonly reason?: string;
}

/** A reserved hold; `replayed` is true when the run already had it (nothing new was held). */
export type ReserveResult = CreditHold & { readonly replayed: boolean };

/** Options of {@link reserve}. @internal */
export interface ReserveOptions {
  /**
   * More common table expressions (`name as (…)`, comma-separated) for the hold's statement: they
   * may read `hold`, the placed hold (no row when none was placed), so a write that needs the hold
   * commits with it or not at all, e.g. the run that the hold pays for.
   */
  readonly alongside?: RawBuilder<unknown>;
}

/**
 * Places a hold with **one conditional `UPDATE`** of the account (`held += amount` only while
 * `balance - held` covers it, or the account is unlimited), the hold row and its `reserve` entry,
 * all in one statement: under Read Committed a concurrent reserve waits for the row lock and
 * re-checks the condition against the new row, so two reserves can never both spend the same
 * credits, and the `CHECK` on `credit_accounts` backs it up.
 *
 * The same `WHERE` enforces the daily credit cap (the account's own, else `ctx.dailyCreditCap`):
 * `held + captured today (UTC) + amount <= cap`, read from the same locked row, so parallel
 * reserves never pass it together.
 *
 * When the statement changes nothing, a second look says why: the run already has a hold (it is
 * returned, `replayed: true`), the account is missing (404) or short (402 `INSUFFICIENT_CREDITS`
 * with `required` and `available`), or the cap is reached (429 `DAILY_CAP_REACHED` with
 * `required`, `available`, `cap`).
 * @internal
 */
export async function reserve(
  ctx: LedgerContext,
  args: ReserveArgs,
  options: ReserveOptions = {},
): Promise<ReserveResult> {
  assertCredits('amount', args.amount, 0);
  if (!Number.isFinite(args.expiresInMs) || args.expiresInMs <= 0) {
    throw new RangeError('"expiresInMs" must be a positive number of milliseconds.');
  }
  return retryTransient(
    async () => {
      for (let attempt = 0; attempt < 5; attempt++) {
        const placed = await placeHold(ctx, args, options);
        if (placed !== undefined) return { ...toCreditHold(placed), replayed: false };
        const why = await whyNotPlaced(ctx, args);
        if (why !== 'retry') return why;
      }
      throw new Error(`Could not place a hold for run ${args.runId}: the account kept changing.`);
    },
    { onUniqueViolation: true },
  );
}

async function placeHold(
  ctx: LedgerContext,
  args: ReserveArgs,
  options: ReserveOptions,
): Promise<HoldRow | undefined> {
  const now = ctx.now();
  const holdId = newId('hold');
  const expiresAt = new Date(now.getTime() + args.expiresInMs);
  const reason = args.reason ?? `Hold for run ${args.runId}`;
  const { rows } = await sql<HoldRow>`${prepared('ledger.reserve')}
    with account as (
      update credit_accounts
         set held = held + ${args.amount}, updated_at = ${now}
       where user_id = ${args.userId}
         and (unlimited or balance - held >= ${args.amount})
         and ${dailyCapCondition(ctx, args.amount)}
         and not exists (select 1 from credit_holds where run_id = ${args.runId})
      returning user_id, balance, held
    ), hold as (
      insert into credit_holds (id, user_id, run_id, amount, expires_at, created_at)
      select ${holdId}, user_id, ${args.runId}, ${args.amount}::integer,
             ${expiresAt}::timestamptz, ${now}::timestamptz
        from account
      returning ${sql.join(HOLD_COLUMNS.map((column) => sql.ref(column)))}
    ), entry as (
      insert into ledger_entries (id, user_id, kind, balance_delta, held_delta, balance_after, held_after,
                                  reason, run_id, hold_id, idempotency_key, created_at)
      select ${newId('led')}, user_id, 'reserve', 0, ${args.amount}::integer, balance, held,
             ${reason}::text, ${args.runId}::text, ${holdId}::text, ${entryKeys.reserve(holdId)}::text,
             ${now}::timestamptz
        from account
    )${options.alongside === undefined ? sql`` : sql`, ${options.alongside}`}
    select * from hold`.execute(ctx.db);
  return rows[0];
}

async function whyNotPlaced(ctx: LedgerContext, args: ReserveArgs): Promise<ReserveResult | 'retry'> {
  const existing = await ctx.db
    .selectFrom('credit_holds')
    .select(HOLD_COLUMNS)
    .where('run_id', '=', args.runId)
    .executeTakeFirst();
  if (existing !== undefined) {
    if (existing.user_id !== args.userId) {
      throw new ApiError('CONFLICT', `Run ${args.runId} already holds credits of another account.`);
    }
    return { ...toCreditHold(existing), replayed: true };
  }
  const account = await ctx.db
    .selectFrom('credit_accounts')
    .select(['balance', 'held', 'unlimited', 'daily_credit_cap'])
    .select(capturedToday(ctx).as('captured_today'))
    .where('user_id', '=', args.userId)
    .executeTakeFirst();
  if (account === undefined) throw new ApiError('NOT_FOUND', 'This user has no credit account.');
  const available = account.balance - account.held;
  if (!account.unlimited && available < args.amount) {
    throw new ApiError(
      'INSUFFICIENT_CREDITS',
      `This needs ${args.amount} credits but only ${Math.max(0, available)} are available.`,
      { details: { required: args.amount, available: Math.max(0, available) } },
    );
  }
  const cap = account.daily_credit_cap ?? ctx.dailyCreditCap;
  const usedToday = account.held + Number(account.captured_today);
  if (cap !== undefined && usedToday + args.amount > cap) {
    throw dailyCapReached({ amount: args.amount, cap, usedToday, now: ctx.now() });
  }
  // The account changed between the two statements and could now cover it: try again.
  return 'retry';
}

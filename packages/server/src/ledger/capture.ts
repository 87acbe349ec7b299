import { type RawBuilder, sql } from 'kysely';
import { prepared } from '../db/prepared-statements.ts';
import type { HoldState } from '../db/schema.ts';
import { ApiError } from '../errors/api-error.ts';
import { newId } from '../ids/new-id.ts';
import { assertFence, fenceCondition, type LeaseFence } from '../runs/lease-fence.ts';
import { assertCredits } from './assert-credits.ts';
import { entryKeys } from './entry-keys.ts';
import type { LedgerContext } from './ledger-context.ts';
import { retryTransient } from './retry-transient.ts';

/** Arguments of `CreditLedger.capture`. */
export interface CaptureArgs {
  readonly holdId: string;
  /** The node being charged: each (hold, node) is captured at most once. */
  readonly nodeId: string;
  /** Credits to charge (at least 1, at most what remains of the hold). */
  readonly amount: number;
  /** Shown in the history; defaults to "Node <nodeId>". */
  readonly reason?: string;
  /**
   * The run's lease: the capture charges nothing, and throws `StaleFenceError`, once another
   * worker holds the run (a frozen worker that wakes up cannot charge).
   */
  readonly fence?: LeaseFence;
}

/**
 * What a capture did. `captured: true`: the node is charged `amount` (`replayed` when it already
 * was, in which case `amount` is the first capture's). `captured: false`: the hold was already
 * resolved (released or expired), so nothing was charged.
 */
export type CaptureResult =
  | {
      readonly captured: true;
      readonly amount: number;
      readonly replayed: boolean;
      /** What remains of the hold after the capture. */
      readonly remaining: number;
    }
  | { readonly captured: false; readonly state: Exclude<HoldState, 'pending'> };

interface CapturedRow {
  amount: number;
  captured: number;
}

/**
 * Charges one node from a hold, in one statement whose parts lock the hold, then the account
 * (the ledger's lock order): `captured += amount` only while the hold is pending, has room, and
 * this (hold, node) has no capture yet; then the `credit_captures` row (primary key (hold, node)),
 * the account (`balance -= amount`, `held -= amount`) and the `capture` entry.
 *
 * A concurrent duplicate loses on the primary key and is retried, finding the winner's capture.
 * When the statement changes nothing, a second look says why: already captured (the first result,
 * `replayed: true`), hold resolved (`captured: false`), hold unknown (404), or the amount exceeds
 * what remains (409 `CONFLICT`).
 * @internal
 */
export async function capture(ctx: LedgerContext, args: CaptureArgs): Promise<CaptureResult> {
  assertCredits('amount', args.amount, 1);
  return retryTransient(
    async () => {
      for (let attempt = 0; attempt < 5; attempt++) {
        const remaining = await chargeNode(ctx, args);
        if (remaining !== undefined)
          return { captured: true, amount: args.amount, replayed: false, remaining };
        await assertFence(ctx.db, args.fence);
        const why = await whyNotCaptured(ctx, args);
        if (why !== 'retry') return why;
      }
      throw new Error(
        `Could not capture node ${args.nodeId} of hold ${args.holdId}: the hold kept changing.`,
      );
    },
    { onUniqueViolation: true },
  );
}

/** The one statement; the hold's remaining credits, or undefined when it changed nothing. */
async function chargeNode(ctx: LedgerContext, args: CaptureArgs): Promise<number | undefined> {
  const { rows } = await sql<CapturedRow>`${prepared('ledger.capture')}
    with ${captureSteps({ ...args, now: ctx.now() })}
    select hold.amount, hold.captured from hold, account`.execute(ctx.db);
  const row = rows[0];
  return row === undefined ? undefined : row.amount - row.captured;
}

/**
 * The capture's steps as the CTEs `hold`, `node_capture`, `account` and `entry`, for a statement
 * to select from (`hold.amount`, `hold.captured`: one row when the node was charged, none when
 * nothing changed). The checkpoint store's grouped `commitNode` (`saveNodeRows`) makes the same
 * charge for many nodes at once.
 */
function captureSteps(args: CaptureArgs & { readonly now: Date }): RawBuilder<unknown> {
  const { now } = args;
  return sql`hold as (
      update credit_holds
         set captured = captured + ${args.amount}
       where id = ${args.holdId}
         and state = 'pending'
         and captured + ${args.amount} <= amount
         and not exists (
           select 1 from credit_captures where hold_id = ${args.holdId} and node_id = ${args.nodeId}
         )
         ${fenceCondition(args.fence)}
      returning id, user_id, run_id, amount, captured
    ), node_capture as (
      insert into credit_captures (hold_id, node_id, amount, created_at)
      select id, ${args.nodeId}::text, ${args.amount}::integer, ${now}::timestamptz from hold
    ), account as (
      update credit_accounts
         set balance = credit_accounts.balance - ${args.amount},
             held = credit_accounts.held - ${args.amount},
             updated_at = ${now},
             -- Today's captures (UTC), for the daily cap checked by reserve.
             captured_today = case
               when credit_accounts.captured_day = (${now}::timestamptz at time zone 'UTC')::date
                 then credit_accounts.captured_today + ${args.amount}
               when credit_accounts.captured_day is null
                 or credit_accounts.captured_day < (${now}::timestamptz at time zone 'UTC')::date
                 then ${args.amount}::integer
               else credit_accounts.captured_today
             end,
             captured_day = greatest(credit_accounts.captured_day, (${now}::timestamptz at time zone 'UTC')::date)
        from hold
       where credit_accounts.user_id = hold.user_id
      returning credit_accounts.user_id, credit_accounts.balance, credit_accounts.held
    ), entry as (
      insert into ledger_entries (id, user_id, kind, balance_delta, held_delta, balance_after, held_after,
                                  reason, run_id, node_id, hold_id, idempotency_key, created_at)
      select ${newId('led')}, account.user_id, 'capture', -${args.amount}::integer, -${args.amount}::integer,
             account.balance, account.held, ${args.reason ?? `Node ${args.nodeId}`}::text, hold.run_id,
             ${args.nodeId}::text, hold.id, ${entryKeys.capture(args.holdId, args.nodeId)}::text,
             ${now}::timestamptz
        from account, hold
    )`;
}

async function whyNotCaptured(ctx: LedgerContext, args: CaptureArgs): Promise<CaptureResult | 'retry'> {
  const hold = await ctx.db
    .selectFrom('credit_holds')
    .leftJoin('credit_captures', (join) =>
      join
        .onRef('credit_captures.hold_id', '=', 'credit_holds.id')
        .on('credit_captures.node_id', '=', args.nodeId),
    )
    .select([
      'credit_holds.amount',
      'credit_holds.captured',
      'credit_holds.state',
      'credit_captures.amount as node_amount',
    ])
    .where('credit_holds.id', '=', args.holdId)
    .executeTakeFirst();
  if (hold === undefined) throw new ApiError('NOT_FOUND', `No credit hold ${args.holdId}.`);
  if (hold.node_amount !== null) {
    return {
      captured: true,
      amount: hold.node_amount,
      replayed: true,
      remaining: hold.amount - hold.captured,
    };
  }
  if (hold.state !== 'pending') return { captured: false, state: hold.state };
  const remaining = hold.amount - hold.captured;
  // The hold was not visible to the statement yet (its reserve committed just after): try again.
  if (remaining >= args.amount) return 'retry';
  throw new ApiError(
    'CONFLICT',
    `Cannot capture ${args.amount} credits for node ${args.nodeId}: only ${remaining} remain on the hold.`,
    { details: { holdId: args.holdId, nodeId: args.nodeId, requested: args.amount, remaining } },
  );
}

import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { type CreditBalance, readBalance } from './balance.ts';
import { type CaptureArgs, type CaptureResult, capture } from './capture.ts';
import type { CreditAccount } from './credit-account.ts';
import { type CreditHold, HOLD_COLUMNS, toCreditHold } from './credit-hold.ts';
import { type GrantArgs, type GrantResult, grant } from './grant.ts';
import { type HistoryOptions, type HistoryPage, readHistory } from './history.ts';
import type { LedgerContext } from './ledger-context.ts';
import { type OpenAccountArgs, openAccount } from './open-account.ts';
import { type ReconcileReport, reconcile } from './reconcile.ts';
import { type ReleaseArgs, type ReleaseResult, release } from './release.ts';
import { type RenewReport, renewDue } from './renew-accounts.ts';
import { type ReserveArgs, type ReserveResult, reserve } from './reserve.ts';
import { type SetPlanArgs, setPlan } from './set-plan.ts';
import { type SweepReport, sweepExpiredHolds } from './sweep-expired-holds.ts';

/**
 * The credits ledger: accounts on plans, two-phase holds (reserve → capture per node → release
 * the rest), grants, monthly renewals, an expiry sweeper, the figures and history the API shows,
 * and a reconciliation check. Every movement changes the account and appends its ledger entry
 * (with a unique idempotency key) in one atomic statement or transaction. See `ARCHITECTURE.md`.
 *
 * Errors are `ApiError`s: `INSUFFICIENT_CREDITS` (402, with `required` and `available`),
 * `DAILY_CAP_REACHED` (429, with `required`, `available` and `cap`),
 * `NOT_FOUND`, `CONFLICT`, `IDEMPOTENCY_CONFLICT`, `VALIDATION_FAILED`.
 */
export interface CreditLedger {
  /** The daily credit cap of accounts without their own (`VIDGENIE_DAILY_CREDIT_CAP`); undefined when off. */
  readonly dailyCreditCap: number | undefined;
  /**
   * Opens a user's account on a plan with its first allowance. Runs on `db`, which may be the
   * caller's transaction (use the transaction's object: never `db` while holding one). Idempotent.
   */
  openAccount(db: Kysely<DB>, args: OpenAccountArgs): Promise<CreditAccount>;
  /** Adds credits (admin grant, or a purchase later), at most once per idempotency key. */
  grant(args: GrantArgs): Promise<GrantResult>;
  /** Moves an account to another plan; tops up to the new allowance and starts a new period. */
  setPlan(args: SetPlanArgs): Promise<CreditAccount>;
  /**
   * Holds credits for a run; 402 `INSUFFICIENT_CREDITS` when short, 429 `DAILY_CAP_REACHED` past the
   * account's daily cap. One hold per run id, ever.
   */
  reserve(args: ReserveArgs): Promise<ReserveResult>;
  /** Charges one node from a hold, at most once per (hold, node). */
  capture(args: CaptureArgs): Promise<CaptureResult>;
  /** Returns what remains of a hold, at most once. */
  release(args: ReleaseArgs): Promise<ReleaseResult>;
  /** Expires pending holds past their expiry (runs that died), returning their remainder. */
  sweepExpiredHolds(options?: { readonly batchSize?: number }): Promise<SweepReport>;
  /** Renews accounts whose period ended (monthly allowance top-up). */
  renewDue(options?: { readonly batchSize?: number }): Promise<RenewReport>;
  /** Plan, balance, held, available, renewal date, used today and this week. */
  balance(userId: string): Promise<CreditBalance>;
  /** Ledger entries, newest first, paginated by `seq`. */
  history(userId: string, options?: HistoryOptions): Promise<HistoryPage>;
  /** A hold by id, or undefined. */
  getHold(holdId: string): Promise<CreditHold | undefined>;
  /** Accounts (and holds) whose cached figures differ from what their entries (and captures) add up to. */
  reconcile(options?: { readonly userIds?: readonly string[] }): Promise<ReconcileReport>;
}

/** Options of {@link createCreditLedger}. */
export interface CreateCreditLedgerOptions {
  readonly db: Kysely<DB>;
  /** The clock for every timestamp the ledger writes and every window it reads (default: the system clock). */
  readonly now?: () => Date;
  /** The daily credit cap of accounts without their own (default: none). See `reserve`. */
  readonly dailyCreditCap?: number | undefined;
}

/**
 * Creates the credits ledger on a migrated database (PGlite or PostgreSQL).
 *
 * @example
 * ```ts
 * import { createCreditLedger, migrateToLatest, openDatabase } from '@vidgenie/server';
 * const database = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
 * await migrateToLatest(database.db);
 * const ledger = createCreditLedger({ db: database.db });
 * await database.db.insertInto('users').values({ id: 'usr_1', email: 'ada@example.com', password_hash: 'x' }).execute();
 * await ledger.openAccount(database.db, { userId: 'usr_1', plan: 'free' });
 * const hold = await ledger.reserve({ userId: 'usr_1', runId: 'run_1', amount: 14, expiresInMs: 3_600_000 });
 * await ledger.capture({ holdId: hold.id, nodeId: 'image', amount: 3 });
 * await ledger.release({ holdId: hold.id }); // { returned: 11, state: 'released', replayed: false }
 * console.log((await ledger.balance('usr_1')).available); // 97
 * await database.close();
 * ```
 */
export function createCreditLedger(options: CreateCreditLedgerOptions): CreditLedger {
  const ctx: LedgerContext = {
    db: options.db,
    now: options.now ?? (() => new Date()),
    dailyCreditCap: options.dailyCreditCap,
  };
  return Object.freeze({
    dailyCreditCap: options.dailyCreditCap,
    openAccount: (db: Kysely<DB>, args: OpenAccountArgs) => openAccount(db, { ...args, now: ctx.now() }),
    grant: (args: GrantArgs) => grant(ctx, args),
    setPlan: (args: SetPlanArgs) => setPlan(ctx, args),
    reserve: (args: ReserveArgs) => reserve(ctx, args),
    capture: (args: CaptureArgs) => capture(ctx, args),
    release: (args: ReleaseArgs) => release(ctx, args),
    sweepExpiredHolds: (sweepOptions?: { readonly batchSize?: number }) =>
      sweepExpiredHolds(ctx, sweepOptions),
    renewDue: (renewOptions?: { readonly batchSize?: number }) => renewDue(ctx, renewOptions),
    balance: (userId: string) => readBalance(ctx, userId),
    history: (userId: string, historyOptions?: HistoryOptions) => readHistory(ctx, userId, historyOptions),
    getHold: async (holdId: string) => {
      const row = await ctx.db
        .selectFrom('credit_holds')
        .select(HOLD_COLUMNS)
        .where('id', '=', holdId)
        .executeTakeFirst();
      return row === undefined ? undefined : toCreditHold(row);
    },
    reconcile: (reconcileOptions?: { readonly userIds?: readonly string[] }) =>
      reconcile(ctx, reconcileOptions),
  });
}

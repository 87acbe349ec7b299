import { type BillingHooks, InsufficientCreditsError } from '@vidgenie/engine';
import { ApiError } from '../errors/api-error.ts';
import type { LeaseFence } from '../runs/lease-fence.ts';
import type { CreditLedger } from './credit-ledger.ts';
import { holdResolvedError } from './hold-resolved-error.ts';

/** Options of {@link createLedgerBillingHooks}. */
export interface LedgerBillingHooksOptions {
  readonly ledger: CreditLedger;
  /** The account runs are charged to. */
  readonly userId: string;
  /**
   * How long a hold lives without being released. Longer than the longest run (including
   * retries and resumes): past it, the sweeper presumes the run dead and returns the hold.
   */
  readonly holdTtlMs: number;
  /**
   * The lease a run is executed under (distributed workers): captures and releases are fenced by
   * it, so a worker that lost the run charges and returns nothing.
   */
  readonly fenceOf?: (runId: string) => LeaseFence | undefined;
}

/**
 * The engine's `BillingHooks` on the credits ledger, for one user's runs:
 * - `reserve` holds the estimate (the run id is the hold's idempotency key); a short balance
 *   throws the engine's `InsufficientCreditsError` with `required` and `available`, so the run
 *   fails with `INSUFFICIENT_CREDITS` before any node starts;
 * - `capture` charges a succeeded node once per (hold, node); a repeat after a crash is free. If
 *   the hold was already resolved (expired by the sweeper while the run was still alive) it throws
 *   a `NonRetryableError`, which stops the run: no more work without a hold to pay for it;
 * - `release` returns `amount - captured` as the ledger counts it (the engine's `amount` is its
 *   own view of the same figure), once.
 *
 * @example
 * ```ts
 * import { createEngine, createNodeRegistry } from '@vidgenie/engine';
 * import { createCreditLedger, createLedgerBillingHooks, openDatabase } from '@vidgenie/server';
 * const database = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
 * const ledger = createCreditLedger({ db: database.db });
 * const billing = createLedgerBillingHooks({ ledger, userId: 'usr_1', holdTtlMs: 6 * 3_600_000 });
 * const engine = createEngine({ registry: createNodeRegistry([]), billing });
 * ```
 */
export function createLedgerBillingHooks(options: LedgerBillingHooksOptions): BillingHooks {
  const { ledger, userId, holdTtlMs } = options;
  return Object.freeze({
    async reserve(args: BillingHooks.ReserveArgs) {
      try {
        const hold = await ledger.reserve({
          userId,
          runId: args.runId,
          amount: args.amount,
          expiresInMs: holdTtlMs,
        });
        return { reservationId: hold.id };
      } catch (error) {
        if (error instanceof ApiError && error.code === 'INSUFFICIENT_CREDITS') {
          throw new InsufficientCreditsError({
            required: Number(error.details?.required ?? args.amount),
            available: Number(error.details?.available ?? 0),
          });
        }
        throw error;
      }
    },
    async capture(args: BillingHooks.CaptureArgs) {
      if (args.amount === 0) return; // the engine never captures free nodes; nothing to charge anyway
      const fence = options.fenceOf?.(args.runId);
      const result = await ledger.capture({
        holdId: args.reservationId,
        nodeId: args.nodeId,
        amount: args.amount,
        ...(fence === undefined ? {} : { fence }),
      });
      if (!result.captured) throw holdResolvedError(args.runId, args.nodeId, result.state);
    },
    async release(args: BillingHooks.ReleaseArgs) {
      const fence = options.fenceOf?.(args.runId);
      await ledger.release({ holdId: args.reservationId, ...(fence === undefined ? {} : { fence }) });
    },
  });
}

/**
 * How the engine charges credits, as two-phase transfers: `reserve` a hold for the estimate before
 * any node runs, `capture` each succeeded node's price once, `release` the rest when the run ends
 * for any reason. The host owns the ledger; the engine only calls these.
 *
 * Hosts must make each call idempotent per its `idempotencyKey` (`reserve` and `release` one per
 * run, `capture` one per run and node): a resumed run may repeat a call whose result was lost in a crash.
 * Do not mutate the arguments.
 */
export interface BillingHooks {
  /** Places a hold. Throw `InsufficientCreditsError` to refuse: the run stops before any work. */
  reserve(args: BillingHooks.ReserveArgs): Promise<{ readonly reservationId: string }>;
  /** Charges one succeeded node from the hold. */
  capture(args: BillingHooks.CaptureArgs): Promise<void>;
  /** Returns what remains of the hold. Called once per run, with 0 when nothing remains. */
  release(args: BillingHooks.ReleaseArgs): Promise<void>;
}

/** Argument types of {@link BillingHooks}. */
export declare namespace BillingHooks {
  interface ReserveArgs {
    readonly runId: string;
    readonly amount: number;
    readonly breakdown: Readonly<Record<string, number>>;
    /** Stable per run: the same run reserves at most once. */
    readonly idempotencyKey: string;
  }
  interface CaptureArgs {
    readonly runId: string;
    readonly reservationId: string;
    readonly nodeId: string;
    readonly amount: number;
    /** Stable per (run, node): a capture repeated after a crash must not charge twice. */
    readonly idempotencyKey: string;
  }
  interface ReleaseArgs {
    readonly runId: string;
    readonly reservationId: string;
    readonly amount: number;
    /** Stable per run: a release repeated after a crash (before the run's end was saved) must not return credits twice. */
    readonly idempotencyKey: string;
  }
}

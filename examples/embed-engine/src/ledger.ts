/**
 * A tiny in-memory credit ledger that implements the engine's `BillingHooks`.
 *
 * The engine charges in two phases: it `reserve`s a hold for the whole estimate before any node
 * runs, `capture`s each node's price from the hold when that node succeeds, and `release`s what is
 * left when the run ends (completed, failed or cancelled). The ledger, not the engine, is the source
 * of truth for money, so it must stay correct when the engine repeats a call after a crash:
 *
 * - `reserve` is idempotent per `idempotencyKey` (one per run): a repeat returns the same hold.
 * - `capture` is idempotent per `idempotencyKey` (one per run and node): a repeat charges nothing.
 * - `release` closes the hold once; later calls do nothing.
 *
 * A real host would do the same with a database table and a unique index on the idempotency key.
 */
import { type BillingHooks, InsufficientCreditsError } from '@vidgenie/engine';

/** One line of the ledger's journal, for people. */
export interface LedgerEntry {
  readonly kind: 'reserve' | 'capture' | 'release' | 'refuse' | 'repeat';
  readonly runId: string;
  readonly amount: number;
  readonly note: string;
  /** Credits on the account after the entry (holds do not change it; captures do). */
  readonly balance: number;
}

interface Hold {
  readonly id: string;
  readonly runId: string;
  readonly amount: number;
  /** What is left to capture or release. */
  remaining: number;
  open: boolean;
}

export class CreditLedger implements BillingHooks {
  readonly startingBalance: number;
  readonly journal: LedgerEntry[] = [];
  #balance: number;
  readonly #holds = new Map<string, Hold>();
  /** Reserve idempotency: key to hold id. */
  readonly #reserveKeys = new Map<string, string>();
  /** Capture idempotency: key to how many times the engine asked (only the first one charges). */
  readonly #captureKeys = new Map<string, number>();

  constructor(startingBalance: number) {
    this.startingBalance = startingBalance;
    this.#balance = startingBalance;
  }

  /** Credits on the account. */
  get balance(): number {
    return this.#balance;
  }
  /** Credits held by open reservations. */
  get held(): number {
    let held = 0;
    for (const hold of this.#holds.values()) if (hold.open) held += hold.remaining;
    return held;
  }
  /** Credits a new run may reserve. */
  get available(): number {
    return this.#balance - this.held;
  }
  /** How many times each capture key was requested: anything above 1 was a harmless repeat. */
  get captureRequests(): ReadonlyMap<string, number> {
    return this.#captureKeys;
  }

  async reserve(args: BillingHooks.ReserveArgs): Promise<{ readonly reservationId: string }> {
    const existing = this.#reserveKeys.get(args.idempotencyKey);
    if (existing !== undefined) {
      this.#write('repeat', args.runId, args.amount, `reserve repeated: same hold ${existing}`);
      return { reservationId: existing };
    }
    if (args.amount > this.available) {
      this.#write('refuse', args.runId, args.amount, `only ${this.available} available`);
      // The engine stops the run before any node starts and reports this error as the outcome.
      throw new InsufficientCreditsError({ required: args.amount, available: this.available });
    }
    const id = `hold-${this.#holds.size + 1}`;
    this.#holds.set(id, { id, runId: args.runId, amount: args.amount, remaining: args.amount, open: true });
    this.#reserveKeys.set(args.idempotencyKey, id);
    this.#write('reserve', args.runId, args.amount, `${id} opened`);
    return { reservationId: id };
  }

  async capture(args: BillingHooks.CaptureArgs): Promise<void> {
    const seen = this.#captureKeys.get(args.idempotencyKey) ?? 0;
    this.#captureKeys.set(args.idempotencyKey, seen + 1);
    if (seen > 0) {
      this.#write('repeat', args.runId, args.amount, `capture ${args.idempotencyKey} already charged`);
      return;
    }
    const hold = this.#holds.get(args.reservationId);
    // Throwing here fails the run: charging outside a hold would be a bug worth stopping for.
    if (hold === undefined || !hold.open) throw new Error(`No open hold ${args.reservationId}.`);
    if (args.amount > hold.remaining) {
      throw new Error(`Capture of ${args.amount} exceeds what ${hold.id} has left (${hold.remaining}).`);
    }
    hold.remaining -= args.amount;
    this.#balance -= args.amount;
    this.#write('capture', args.runId, args.amount, `node ${args.nodeId} from ${hold.id}`);
  }

  async release(args: BillingHooks.ReleaseArgs): Promise<void> {
    const hold = this.#holds.get(args.reservationId);
    if (hold === undefined) throw new Error(`No hold ${args.reservationId}.`);
    if (!hold.open) {
      this.#write('repeat', args.runId, args.amount, `release of ${hold.id} repeated`);
      return;
    }
    // The ledger releases what *it* has left on the hold; the engine's figure should agree.
    const note =
      args.amount === hold.remaining
        ? `${hold.id} closed`
        : `${hold.id} closed (engine said ${args.amount}, ledger had ${hold.remaining})`;
    const returned = hold.remaining;
    hold.remaining = 0;
    hold.open = false;
    this.#write('release', args.runId, returned, note);
  }

  #write(kind: LedgerEntry['kind'], runId: string, amount: number, note: string): void {
    this.journal.push({ kind, runId, amount, note, balance: this.#balance });
  }
}

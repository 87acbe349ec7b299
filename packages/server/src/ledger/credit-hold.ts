import type { HoldState } from '../db/schema.ts';

/**
 * A credit hold: a two-phase transfer placed for one run. `amount` is reserved at once; nodes
 * capture parts of it; release (or expiry) returns the rest, once.
 */
export interface CreditHold {
  readonly id: string;
  readonly userId: string;
  readonly runId: string;
  /** Credits reserved. */
  readonly amount: number;
  /** Credits captured so far (never more than `amount`). */
  readonly captured: number;
  /** Credits given back when the hold was resolved (`amount - captured`); null while pending. */
  readonly returned: number | null;
  readonly state: HoldState;
  readonly expiresAt: Date;
  readonly createdAt: Date;
  readonly resolvedAt: Date | null;
}

/** A `credit_holds` row as the ledger's raw statements return it. @internal */
export interface HoldRow {
  id: string;
  user_id: string;
  run_id: string;
  amount: number;
  captured: number;
  returned: number | null;
  state: HoldState;
  expires_at: Date;
  created_at: Date;
  resolved_at: Date | null;
}

/** The columns of {@link HoldRow}, for `returning` and `select` lists. @internal */
export const HOLD_COLUMNS = [
  'id',
  'user_id',
  'run_id',
  'amount',
  'captured',
  'returned',
  'state',
  'expires_at',
  'created_at',
  'resolved_at',
] as const;

/** Maps a row to a {@link CreditHold}. @internal */
export function toCreditHold(row: HoldRow): CreditHold {
  return {
    id: row.id,
    userId: row.user_id,
    runId: row.run_id,
    amount: row.amount,
    captured: row.captured,
    returned: row.returned,
    state: row.state,
    expiresAt: new Date(row.expires_at),
    createdAt: new Date(row.created_at),
    resolvedAt: row.resolved_at === null ? null : new Date(row.resolved_at),
  };
}

import type { LedgerEntryKind, LedgerEntryRow } from '../db/schema.ts';
import type { LedgerContext } from './ledger-context.ts';

/** One line of an account's history. */
export interface HistoryEntry {
  readonly id: string;
  /** The entry's position in the ledger; pages are cut by it. */
  readonly seq: number;
  readonly kind: LedgerEntryKind;
  /**
   * Credits moved, never negative: granted, renewed or purchased (added to the balance), held
   * (`reserve`), charged (`capture`), or given back (`release`, `expire`). The signed changes are
   * `balanceDelta` and `heldDelta`.
   */
  readonly amount: number;
  readonly balanceDelta: number;
  readonly heldDelta: number;
  readonly balanceAfter: number;
  readonly heldAfter: number;
  readonly reason: string;
  readonly runId: string | null;
  readonly nodeId: string | null;
  readonly holdId: string | null;
  readonly createdAt: Date;
}

/** Options of `CreditLedger.history`. */
export interface HistoryOptions {
  /** Entries per page, 1 to 100 (default 20). */
  readonly limit?: number;
  /** A `nextCursor` from the previous page: only entries older than it. */
  readonly before?: number;
}

/** A page of history, newest first; `nextCursor` is null on the last page. */
export interface HistoryPage {
  readonly entries: readonly HistoryEntry[];
  readonly nextCursor: number | null;
}

/**
 * An account's ledger entries, newest first, a page at a time (keyset pagination on `seq`, so
 * entries written meanwhile never shift a page).
 * @internal
 */
export async function readHistory(
  ctx: LedgerContext,
  userId: string,
  options: HistoryOptions = {},
): Promise<HistoryPage> {
  const limit = Math.min(100, Math.max(1, Math.trunc(options.limit ?? 20)));
  let query = ctx.db
    .selectFrom('ledger_entries')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('seq', 'desc')
    .limit(limit + 1);
  if (options.before !== undefined) query = query.where('seq', '<', options.before);
  const rows = await query.execute();
  const page = rows.slice(0, limit).map(toHistoryEntry);
  return { entries: page, nextCursor: rows.length > limit ? (page.at(-1)?.seq ?? null) : null };
}

function toHistoryEntry(row: LedgerEntryRow): HistoryEntry {
  return {
    id: row.id,
    seq: Number(row.seq),
    kind: row.kind,
    amount: Math.abs(row.balance_delta !== 0 ? row.balance_delta : row.held_delta),
    balanceDelta: row.balance_delta,
    heldDelta: row.held_delta,
    balanceAfter: row.balance_after,
    heldAfter: row.held_after,
    reason: row.reason,
    runId: row.run_id,
    nodeId: row.node_id,
    holdId: row.hold_id,
    createdAt: new Date(row.created_at),
  };
}

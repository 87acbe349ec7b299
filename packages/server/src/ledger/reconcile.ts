import { sql } from 'kysely';
import type { LedgerContext } from './ledger-context.ts';

/** An account whose cached figures disagree with its ledger entries or holds. */
export interface AccountDrift {
  readonly userId: string;
  readonly balance: number;
  readonly held: number;
  /** The sum of the account's entries' `balance_delta`. */
  readonly entriesBalance: number;
  /** The sum of the account's entries' `held_delta`. */
  readonly entriesHeld: number;
  /** The sum of `amount - captured` over the account's pending holds. */
  readonly pendingHolds: number;
  /** `balance_after` and `held_after` of the newest entry (null without entries). */
  readonly lastBalanceAfter: number | null;
  readonly lastHeldAfter: number | null;
}

/** A hold whose `captured` differs from the sum of its captures. */
export interface HoldDrift {
  readonly holdId: string;
  readonly captured: number;
  readonly capturesSum: number;
}

/** What a reconciliation found: empty lists mean no drift. */
export interface ReconcileReport {
  /** Accounts checked. */
  readonly accounts: number;
  readonly drift: readonly AccountDrift[];
  readonly holdDrift: readonly HoldDrift[];
}

interface DriftRow {
  user_id: string;
  balance: number;
  held: number;
  entries_balance: number | string;
  entries_held: number | string;
  pending_holds: number | string;
  last_balance_after: number | null;
  last_held_after: number | null;
}

/**
 * Recomputes every account (or the given ones) from its ledger entries and its pending holds, and
 * every hold from its captures, and lists what disagrees. Each check is one statement, so it reads
 * one consistent snapshot even while the ledger is busy (every movement changes an account, its
 * hold and its entry in one statement too).
 * @internal
 */
export async function reconcile(
  ctx: LedgerContext,
  options: { readonly userIds?: readonly string[] } = {},
): Promise<ReconcileReport> {
  const only = options.userIds;
  if (only !== undefined && only.length === 0) return { accounts: 0, drift: [], holdDrift: [] };
  const accountFilter = only === undefined ? sql`true` : sql`a.user_id in (${sql.join(only)})`;
  const holdFilter = only === undefined ? sql`true` : sql`h.user_id in (${sql.join(only)})`;
  const { rows } = await sql<DriftRow>`
    select *
      from (select a.user_id, a.balance, a.held,
                   coalesce(e.balance, 0) as entries_balance, coalesce(e.held, 0) as entries_held,
                   coalesce(p.held, 0) as pending_holds,
                   last.balance_after as last_balance_after, last.held_after as last_held_after
              from credit_accounts a
              left join (select user_id, sum(balance_delta) as balance, sum(held_delta) as held
                           from ledger_entries group by user_id) e on e.user_id = a.user_id
              left join (select user_id, sum(amount - captured) as held
                           from credit_holds where state = 'pending' group by user_id) p on p.user_id = a.user_id
              left join lateral (select balance_after, held_after from ledger_entries l
                                  where l.user_id = a.user_id order by seq desc limit 1) last on true
             where ${accountFilter}) checked
     where balance <> entries_balance or held <> entries_held or held <> pending_holds
        or last_balance_after is distinct from balance or last_held_after is distinct from held`.execute(
    ctx.db,
  );
  const counted = await sql<{ accounts: number | string }>`
    select count(*) as accounts from credit_accounts a where ${accountFilter}`.execute(ctx.db);
  const holds = await sql<{ id: string; captured: number; captures_sum: number | string }>`
    select h.id, h.captured, coalesce(sum(c.amount), 0) as captures_sum
      from credit_holds h left join credit_captures c on c.hold_id = h.id
     where ${holdFilter}
     group by h.id, h.captured
    having h.captured <> coalesce(sum(c.amount), 0)`.execute(ctx.db);
  return {
    accounts: Number(counted.rows[0]?.accounts ?? 0),
    drift: rows.map((row) => ({
      userId: row.user_id,
      balance: row.balance,
      held: row.held,
      entriesBalance: Number(row.entries_balance),
      entriesHeld: Number(row.entries_held),
      pendingHolds: Number(row.pending_holds),
      lastBalanceAfter: row.last_balance_after,
      lastHeldAfter: row.last_held_after,
    })),
    holdDrift: holds.rows.map((row) => ({
      holdId: row.id,
      captured: row.captured,
      capturesSum: Number(row.captures_sum),
    })),
  };
}

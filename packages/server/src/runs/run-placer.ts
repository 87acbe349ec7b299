import { type Kysely, sql } from 'kysely';
import { gather, onePerKey } from '../db/gather.ts';
import { prepared } from '../db/prepared-statements.ts';
import type { DB } from '../db/schema.ts';
import { newId } from '../ids/new-id.ts';
import { utcDay } from '../ledger/daily-credit-cap.ts';
import { entryKeys } from '../ledger/entry-keys.ts';
import { retryTransient } from '../ledger/retry-transient.ts';

/** A new run to store with its credit hold: see {@link createRunPlacer}. */
export interface RunPlacement {
  readonly runId: string;
  readonly userId: string;
  /** Credits to hold, the run's estimated cost (at least 1). */
  readonly amount: number;
  readonly estimatedDurationSeconds: number;
  /** The graph as stored in the run's row (JSON). */
  readonly graph: string;
  readonly parentRunId: string | null;
  readonly rerunFrom: string | null;
  /** The hold's reason in the history. */
  readonly reason: string;
  /** The app clock: the hold's and the row's times, and the daily cap's day. */
  readonly now: Date;
  readonly expiresAt: Date;
  /** The daily cap of accounts without their own, if any. */
  readonly dailyCreditCap: number | undefined;
}

/** Stores a run with its hold, or answers false having stored nothing: see {@link createRunPlacer}. */
export type RunPlacer = (placement: RunPlacement) => Promise<boolean>;

/**
 * Stores new runs with their credit holds, the runs accepted together in one statement
 * ({@link gather}): for each, the ledger's reserve (the account's conditional update: `held +=
 * amount` while the balance covers it, or the account is unlimited, and within the daily cap; the
 * hold; its `reserve` entry with the balance after it) and the run's `queued` row, all or nothing.
 * One account appears once per statement ({@link onePerKey}): a user's second run goes in the next,
 * and sees the first one's hold. A placement answered false changed nothing; the caller then takes
 * the ledger's own path, which says why (402, 429, 404).
 * @internal
 */
export function createRunPlacer(db: Kysely<DB>): RunPlacer {
  // Two statements in flight may lock two accounts in opposite orders: a deadlock is retried.
  return gather({
    send: onePerKey(
      (p: RunPlacement) => p.userId,
      (batch) => retryTransient(() => placeRuns(db, batch)),
    ),
  });
}

async function placeRuns(db: Kysely<DB>, batch: readonly RunPlacement[]): Promise<boolean[]> {
  const holdIds = batch.map(() => newId('hold'));
  const column = <T>(pick: (placement: RunPlacement, holdId: string) => T) =>
    batch.map((placement, i) => pick(placement, holdIds[i] ?? ''));
  const { rows } = await sql<{ ord: string }>`${prepared('runs.place')}
    with input as (
      select * from unnest(
        ${column((p) => p.runId)}::text[], ${column((p) => p.userId)}::text[],
        ${column((p) => p.amount)}::integer[], ${column((_, holdId) => holdId)}::text[],
        ${column(() => newId('led'))}::text[], ${column((_, holdId) => entryKeys.reserve(holdId))}::text[],
        ${column((p) => p.reason)}::text[], ${column((p) => p.expiresAt.toISOString())}::timestamptz[],
        ${column((p) => p.now.toISOString())}::timestamptz[], ${column((p) => utcDay(p.now))}::date[],
        ${column((p) => p.dailyCreditCap ?? null)}::integer[], ${column((p) => p.graph)}::text[],
        ${column((p) => p.estimatedDurationSeconds)}::integer[], ${column((p) => p.parentRunId)}::text[],
        ${column((p) => p.rerunFrom)}::text[]
      ) with ordinality as i(run_id, user_id, amount, hold_id, entry_id, entry_key, reason, expires_at,
                             at, day, cap, graph, duration, parent_run_id, rerun_from, ord)
    ), account as (
      update credit_accounts a
         set held = a.held + i.amount, updated_at = i.at
        from input i
       where a.user_id = i.user_id
         and (a.unlimited or a.balance - a.held >= i.amount)
         and (coalesce(a.daily_credit_cap, i.cap) is null
              or a.held + (case when a.captured_day = i.day then a.captured_today else 0 end) + i.amount
                 <= coalesce(a.daily_credit_cap, i.cap))
         and not exists (select 1 from credit_holds h where h.run_id = i.run_id)
      returning i.ord, a.user_id, a.balance, a.held
    ), hold as (
      insert into credit_holds (id, user_id, run_id, amount, expires_at, created_at)
      select i.hold_id, i.user_id, i.run_id, i.amount, i.expires_at, i.at
        from account a join input i on i.ord = a.ord
      returning run_id
    ), entry as (
      insert into ledger_entries (id, user_id, kind, balance_delta, held_delta, balance_after, held_after,
                                  reason, run_id, hold_id, idempotency_key, created_at)
      select i.entry_id, a.user_id, 'reserve', 0, i.amount, a.balance, a.held, i.reason, i.run_id, i.hold_id,
             i.entry_key, i.at
        from account a join input i on i.ord = a.ord
    ), run as (
      insert into runs (id, user_id, status, graph, estimated_cost, estimated_duration_seconds, hold_id,
                        parent_run_id, rerun_from, created_at, dispatched_at)
      select i.run_id, i.user_id, 'queued', i.graph::json, i.amount, i.duration, i.hold_id, i.parent_run_id,
             i.rerun_from, i.at, now()
        from hold h join input i on i.run_id = h.run_id
    )
    select i.ord from hold h join input i on i.run_id = h.run_id`.execute(db);
  const placed = new Set(rows.map((row) => Number(row.ord)));
  return batch.map((_, i) => placed.has(i + 1));
}

import { type Kysely, sql } from 'kysely';

/**
 * Operations (migration 0007):
 *
 * - `analytics_events`: the PRD's analytics events (section 13), one row each: a dotted `name`,
 *   the user it concerns (kept null when the user is deleted) and `properties` (ids, durations,
 *   costs, providers: never a secret nor a prompt's text). Indexed by (name, created_at) for the
 *   admin figures over a window. `dedupe_key` (unique, when set) makes an event recorded at most
 *   once although several processes may hear it (a run's events reach other machines' buses).
 * - The daily credit cap: `credit_accounts.daily_credit_cap` (the account's own cap; null uses the
 *   server's `VIDGENIE_DAILY_CREDIT_CAP`), and `captured_day` / `captured_today`, what the account's
 *   captures charged on its last UTC day with one. A trigger on `ledger_entries` keeps those two up
 *   to date from each `capture` entry, on the row the capture has already locked, so a reserve reads
 *   the day's usage from the account row it updates: one statement, no extra lock. Today's
 *   captures are backfilled.
 */
const statements = [
  `create table analytics_events (
    id text primary key,
    user_id text references users(id) on delete set null,
    name text not null check (length(name) between 1 and 64),
    properties jsonb not null default '{}'::jsonb check (jsonb_typeof(properties) = 'object'),
    created_at timestamptz not null default now(),
    dedupe_key text unique check (dedupe_key is null or length(dedupe_key) between 1 and 512)
  )`,
  `create index analytics_events_name_created on analytics_events(name, created_at)`,
  `create index analytics_events_user on analytics_events(user_id, created_at)`,
  `alter table credit_accounts add column daily_credit_cap integer
     check (daily_credit_cap is null or daily_credit_cap >= 0)`,
  `alter table credit_accounts add column captured_day date`,
  `alter table credit_accounts add column captured_today integer not null default 0`,
  `create function ledger_entries_count_capture() returns trigger language plpgsql as $$
  declare
    day date := (new.created_at at time zone 'UTC')::date;
  begin
    update credit_accounts
       set captured_today = case
             when captured_day = day then captured_today - new.balance_delta
             when captured_day is null or captured_day < day then -new.balance_delta
             else captured_today
           end,
           captured_day = greatest(captured_day, day)
     where user_id = new.user_id;
    return null;
  end $$`,
  `create trigger ledger_entries_count_capture after insert on ledger_entries
    for each row when (new.kind = 'capture') execute function ledger_entries_count_capture()`,
  `update credit_accounts
      set captured_day = today.day, captured_today = today.total
     from (
       select user_id, (now() at time zone 'UTC')::date as day, sum(-balance_delta)::integer as total
         from ledger_entries
        where kind = 'capture' and created_at >= (date_trunc('day', now() at time zone 'UTC') at time zone 'UTC')
        group by user_id
     ) as today
    where credit_accounts.user_id = today.user_id`,
];

/** Creates `analytics_events`, the cap columns and the capture trigger. */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

/** Drops everything {@link up} created. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw('drop trigger if exists ledger_entries_count_capture on ledger_entries').execute(db);
  await sql.raw('drop function if exists ledger_entries_count_capture()').execute(db);
  for (const column of ['captured_today', 'captured_day', 'daily_credit_cap']) {
    await sql.raw(`alter table credit_accounts drop column if exists ${column}`).execute(db);
  }
  await sql.raw('drop table if exists analytics_events cascade').execute(db);
}

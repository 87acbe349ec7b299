import { type Kysely, sql } from 'kysely';

/**
 * The capture statement now keeps `captured_day` / `captured_today` itself, in the account update
 * it already makes: the trigger of 0007, which updated the same account row a second time per
 * capture, is dropped (the ledger bench measured it).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql.raw('drop trigger if exists ledger_entries_count_capture on ledger_entries').execute(db);
  await sql.raw('drop function if exists ledger_entries_count_capture()').execute(db);
}

/** Puts the trigger back. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql
    .raw(`create function ledger_entries_count_capture() returns trigger language plpgsql as $$
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
  end $$`)
    .execute(db);
  await sql
    .raw(`create trigger ledger_entries_count_capture after insert on ledger_entries
    for each row when (new.kind = 'capture') execute function ledger_entries_count_capture()`)
    .execute(db);
}

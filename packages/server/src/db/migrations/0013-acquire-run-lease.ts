import { type Kysely, sql } from 'kysely';

/**
 * `vidgenie_acquire_run_lease`: a run's lease taken in one statement instead of a five-statement
 * transaction. The per-user limit needs the owner's advisory lock before the count of live leases,
 * and the count must see what committed while waiting for it: in a volatile PL/pgSQL function each
 * query takes a fresh snapshot, so the count after the lock sees every lease committed under it.
 * One round trip also means the lock is never held while the client is away (a frozen worker
 * holding it mid-transaction was a chaos finding; see `db-idle-transaction.pg.test.ts`).
 *
 * It answers `acquired` (with the new epoch, the owner and any cancel asked), `held` (another
 * worker holds a live lease), `user-limit` (the owner has `per_user_limit` live leases) or
 * `finished` (no such run, or it ended).
 */
const create = `
create or replace function vidgenie_acquire_run_lease(
  p_run_id text, p_owner text, p_ttl_ms double precision, p_per_user_limit integer, p_now timestamptz
) returns table (outcome text, epoch integer, owner_user_id text, cancel_reason text)
language plpgsql volatile as $$
declare
  v_user text;
  v_status text;
  v_live boolean;
begin
  select r.user_id, r.status into v_user, v_status from runs r where r.id = p_run_id;
  if v_user is null or v_status not in ('queued', 'running') then
    return query select 'finished'::text, null::integer, null::text, null::text;
    return;
  end if;
  if p_per_user_limit is not null then
    perform pg_advisory_xact_lock(hashtext('vidgenie.runs.user:' || v_user));
  end if;
  return query
    update runs r
       set lease_owner = p_owner, lease_epoch = r.lease_epoch + 1,
           lease_expires_at = now() + make_interval(secs => p_ttl_ms / 1000),
           status = 'running', started_at = coalesce(r.started_at, p_now)
     where r.id = p_run_id and r.status in ('queued', 'running')
       and (r.lease_expires_at is null or r.lease_expires_at <= now())
       and (p_per_user_limit is null
            or (select count(*) from runs other
                 where other.user_id = r.user_id and other.id <> r.id
                   and other.status = 'running' and other.lease_expires_at > now()) < p_per_user_limit)
    returning 'acquired'::text, r.lease_epoch, r.user_id, r.cancel_requested;
  if found then
    return;
  end if;
  select r.status, coalesce(r.lease_expires_at > now(), false) into v_status, v_live
    from runs r where r.id = p_run_id;
  return query select
    case when v_status is null or v_status not in ('queued', 'running') then 'finished'
         when v_live then 'held'
         else 'user-limit' end,
    null::integer, null::text, null::text;
end
$$`;

/** Creates the function. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql.raw(create).execute(db);
}

/** Drops it. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql
    .raw(
      `drop function if exists vidgenie_acquire_run_lease(text, text, double precision, integer, timestamptz)`,
    )
    .execute(db);
}

import { type Kysely, sql } from 'kysely';

/**
 * Leases on `runs` for execution on several workers: `lease_owner` (the worker's id),
 * `lease_epoch` (the fencing token: +1 at every acquisition; checkpoint, event, capture and release
 * writes check it), `lease_expires_at` (set from the database clock), `cancel_requested` (the
 * reason of a cancel asked on another machine) and `dispatched_at` (when a queue job was last sent
 * for the run, so the takeover sweep does not send duplicates).
 */
const statements = [
  `alter table runs add column lease_owner text`,
  `alter table runs add column lease_epoch integer not null default 0 check (lease_epoch >= 0)`,
  `alter table runs add column lease_expires_at timestamptz`,
  `alter table runs add column cancel_requested text`,
  `alter table runs add column dispatched_at timestamptz`,
  `alter table runs add constraint runs_lease check ((lease_owner is null) = (lease_expires_at is null))`,
  `create index runs_unfinished_leases on runs (lease_expires_at) where status in ('queued', 'running')`,
];

/** Adds the lease columns. */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

/** Drops them. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw(`drop index if exists runs_unfinished_leases`).execute(db);
  await sql.raw(`alter table runs drop constraint if exists runs_lease`).execute(db);
  for (const column of [
    'dispatched_at',
    'cancel_requested',
    'lease_expires_at',
    'lease_epoch',
    'lease_owner',
  ]) {
    await sql.raw(`alter table runs drop column if exists ${column}`).execute(db);
  }
}

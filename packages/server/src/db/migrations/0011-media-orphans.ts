import { type Kysely, sql } from 'kysely';

/**
 * Media waiting for the cleanup job: `media_orphans`, one row per blob key that no content may
 * reference any more (the media of a failed or cancelled run, or a content's blob kept while a
 * live run still used it), with the time from which the job may delete it (`eligible_at`: the
 * run's end plus `VIDGENIE_ORPHAN_MEDIA_HOURS`, so a creator can still "rerun from here"). The job
 * checks the reference rule again before deleting. An index on `runs(parent_run_id)` finds a run's
 * reruns (which reuse its keys) for that check.
 */
const statements = [
  `create table media_orphans (
    key text primary key check (length(key) between 1 and 1024),
    user_id text not null check (length(user_id) between 1 and 255),
    run_id text check (run_id is null or length(run_id) between 1 and 255),
    eligible_at timestamptz not null,
    created_at timestamptz not null default now()
  )`,
  `create index media_orphans_eligible on media_orphans(eligible_at)`,
  `create index runs_parent_run on runs(parent_run_id) where parent_run_id is not null`,
];

/** Creates `media_orphans` and the reruns index. */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

/** Drops them. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw('drop index if exists runs_parent_run').execute(db);
  await sql.raw('drop table if exists media_orphans').execute(db);
}

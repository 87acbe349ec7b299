import { type Kysely, sql } from 'kysely';

/**
 * Reruns and duration estimates on `runs`: `parent_run_id` and `rerun_from` for a run that reuses
 * an earlier run's outputs upstream of one node, and `estimated_duration_seconds` (null for runs
 * accepted before this migration).
 */
const statements = [
  `alter table runs add column parent_run_id text references runs(id) on delete set null`,
  `alter table runs add column rerun_from text`,
  `alter table runs add column estimated_duration_seconds integer
     check (estimated_duration_seconds is null or estimated_duration_seconds >= 0)`,
  `alter table runs add constraint runs_rerun check ((parent_run_id is null) or (rerun_from is not null))`,
];

/** Adds the columns. */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

/** Drops them. */
export async function down(db: Kysely<unknown>): Promise<void> {
  for (const column of ['estimated_duration_seconds', 'rerun_from', 'parent_run_id']) {
    await sql.raw(`alter table runs drop column if exists ${column}`).execute(db);
  }
}

import { type Kysely, sql } from 'kysely';

/**
 * Queues in `media_orphans` the media of failed and cancelled runs that ended before 0011: since
 * then a run queues its own media when it ends, but earlier ones stayed in the blob store for
 * good. The keys are read from the completed node checkpoints, as the run-end listener reads them
 * (owner's prefix or the older `runs/` layout only), eligible 24 hours after the run ended; the
 * cleanup job checks that nothing uses a key before deleting it. The records are parsed here, not
 * by the database (a `\u0000` in some output would make a JSON function fail the migration), a page
 * of runs at a time. A key already queued is left as it is.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const PAGE = 500;
  let after = '';
  for (;;) {
    const { rows: runs } = await sql<{ id: string; user_id: string; finished_at: Date | null }>`
      select id, user_id, finished_at from runs
       where status in ('failed', 'cancelled') and id > ${after}
       order by id limit ${PAGE}`.execute(db);
    if (runs.length === 0) return;
    after = runs.at(-1)?.id ?? after;
    const { rows: nodes } = await sql<{ run_id: string; record: string }>`
      select run_id, record::text as record from node_checkpoints
       where status = 'completed' and run_id in (${sql.join(runs.map((run) => run.id))})`.execute(db);
    const orphans = new Map<string, { user_id: string; run_id: string; eligible_at: Date }>();
    for (const node of nodes) {
      const run = runs.find((candidate) => candidate.id === node.run_id);
      if (run === undefined) continue;
      const eligibleAt = new Date((run.finished_at?.getTime() ?? Date.now()) + 24 * 3_600_000);
      for (const key of outputKeys(node.record)) {
        const owned =
          (key.startsWith(`users/${run.user_id}/runs/`) || key.startsWith('runs/')) &&
          !key.split('/').includes('..') &&
          key.length <= 1024;
        if (owned) orphans.set(key, { user_id: run.user_id, run_id: run.id, eligible_at: eligibleAt });
      }
    }
    if (orphans.size > 0) {
      const values = [...orphans].map(
        ([key, orphan]) =>
          sql`(${key}, ${orphan.user_id}, ${orphan.run_id}, ${orphan.eligible_at}::timestamptz)`,
      );
      await sql`insert into media_orphans (key, user_id, run_id, eligible_at)
        values ${sql.join(values)} on conflict (key) do nothing`.execute(db);
    }
    if (runs.length < PAGE) return;
  }
}

/** The blob keys (`{ key }` values) of a node record's output; none when the record is not JSON. */
function outputKeys(text: string): string[] {
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch {
    return [];
  }
  const output = (record as { output?: unknown } | null)?.output;
  if (typeof output !== 'object' || output === null) return [];
  return Object.values(output).flatMap((ref: unknown) =>
    typeof ref === 'object' && ref !== null && typeof (ref as { key?: unknown }).key === 'string'
      ? [(ref as { key: string }).key]
      : [],
  );
}

/** Nothing to undo: queued keys are only candidates; the cleanup job re-checks each. */
export async function down(): Promise<void> {}

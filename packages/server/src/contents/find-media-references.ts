import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.ts';

/** Options of {@link findMediaReferences}. */
export interface MediaReferenceOptions {
  /** The current time (the services' clock). */
  readonly now: Date;
  /** `VIDGENIE_ORPHAN_MEDIA_HOURS`: how long a failed or cancelled run keeps its media for a rerun. */
  readonly graceHours: number;
}

/** Which of the asked keys are still referenced, and by what. */
export interface MediaReferences {
  /** Keys a content (of any user) names as its image, video or thumbnail. */
  readonly byContents: ReadonlySet<string>;
  /**
   * Keys a live run may still read: the run that wrote the key, or a rerun descending from it
   * (reruns reuse their parent's outputs under the parent's keys), is queued or running, or
   * failed or was cancelled less than `graceHours` ago (it may still be rerun from a node).
   */
  readonly byRuns: ReadonlySet<string>;
}

const HOUR_MS = 3_600_000;
const ORIGIN = /^(?:users\/[^/]+\/)?runs\/([^/]+)\//;

/**
 * The run that wrote a blob key (`runs/<runId>/…` or `users/<userId>/runs/<runId>/…`), if the key
 * has that layout.
 * @internal
 */
export function originRunOf(key: string): string | undefined {
  return ORIGIN.exec(key)?.[1];
}

/**
 * The reference rule of the content library, for a set of blob keys: which ones a content still
 * names, and which ones a live run may still read. A rerun's reused outputs keep the keys of the
 * run that wrote them, so a key's possible readers are that run and every run descending from it
 * along `runs.parent_run_id` (found with a recursive query; an over-approximation, since a rerun
 * from the image node makes its own image, but only for as long as the rerun is live: the key stays
 * in `media_orphans` and the cleanup job looks again). Call it inside the transaction that deletes
 * the rows naming the keys.
 * @internal
 */
export async function findMediaReferences(
  db: Kysely<DB>,
  keys: readonly string[],
  options: MediaReferenceOptions,
): Promise<MediaReferences> {
  const byContents = new Set<string>();
  const byRuns = new Set<string>();
  if (keys.length === 0) return { byContents, byRuns };
  const wanted = new Set(keys);
  const rows = await db
    .selectFrom('contents')
    .select(['image_key', 'video_key', 'thumbnail_key'])
    .where((eb) =>
      eb.or([eb('image_key', 'in', keys), eb('video_key', 'in', keys), eb('thumbnail_key', 'in', keys)]),
    )
    .execute();
  for (const row of rows) {
    for (const key of [row.image_key, row.video_key, row.thumbnail_key]) {
      if (key !== null && wanted.has(key)) byContents.add(key);
    }
  }
  const origins = [...new Set(keys.flatMap((key) => originRunOf(key) ?? []))];
  if (origins.length > 0) {
    const cutoff = new Date(options.now.getTime() - options.graceHours * HOUR_MS);
    const live = await sql<{ origin: string }>`
      with recursive tree(id, origin) as (
        select id, id from runs where id in (${sql.join(origins)})
        union
        select r.id, t.origin from runs r join tree t on r.parent_run_id = t.id
      )
      select distinct t.origin from tree t join runs r on r.id = t.id
       where r.status in ('queued', 'running')
          or (r.status in ('failed', 'cancelled') and r.finished_at > ${cutoff})`.execute(db);
    const liveOrigins = new Set(live.rows.map((row) => row.origin));
    for (const key of keys) {
      const origin = originRunOf(key);
      if (origin !== undefined && liveOrigins.has(origin)) byRuns.add(key);
    }
  }
  return { byContents, byRuns };
}

import type { BlobStore } from '@vidgenie/nodes';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DB } from '../db/schema.ts';
import { findMediaReferences } from './find-media-references.ts';

/** Options of {@link deleteContents}. */
export interface DeleteContentsOptions {
  readonly db: Kysely<DB>;
  /** The store the contents' media is in. */
  readonly blobs: BlobStore;
  /** Where a blob that could not be deleted is reported (its row is gone either way). */
  readonly log?: Pick<Logger, 'warn'>;
  /** The current time (default: the system clock), for the grace period of failed runs. */
  readonly now?: Date;
  /**
   * `VIDGENIE_ORPHAN_MEDIA_HOURS` (default 24): a run that failed or was cancelled less than this
   * long ago still protects the keys it used, so a creator can rerun it from a node.
   */
  readonly orphanGraceHours?: number;
}

/** The default of `VIDGENIE_ORPHAN_MEDIA_HOURS`. */
export const DEFAULT_ORPHAN_GRACE_HOURS = 24;

/** How long the cleanup job waits before trying a failed blob deletion again. */
const RETRY_MS = 3_600_000;

/** Queues a blob whose deletion failed for the cleanup job, an hour from now. */
async function retryLater(
  db: Kysely<DB>,
  key: string,
  from: { readonly userId: string; readonly runId: string },
  now: Date,
): Promise<void> {
  await db
    .insertInto('media_orphans')
    .values({
      key,
      user_id: from.userId,
      run_id: from.runId,
      eligible_at: new Date(now.getTime() + RETRY_MS),
    })
    .onConflict((conflict) => conflict.column('key').doNothing())
    .execute();
}

/** What {@link deleteContents} did. */
export interface DeleteContentsResult {
  /** Content rows deleted. */
  readonly contents: number;
  /** Media blobs deleted. */
  readonly blobsDeleted: number;
  /**
   * Media blobs kept because another content still references them, or because a live run (a
   * rerun still going, or a failed or cancelled run within `VIDGENIE_ORPHAN_MEDIA_HOURS`) may still
   * read them: those wait in `media_orphans` for the cleanup job.
   */
  readonly blobsKept: number;
  /** Media blobs whose deletion failed (logged; queued for the cleanup job to try again). */
  readonly blobsFailed: number;
}

/**
 * Deletes contents and then their media, except blobs still referenced: a rerun reuses its
 * parent's outputs under the parent run's keys ("same image, new video" shares the image), so a
 * blob goes only with the last content that references it, and not while a live run may read it
 * (a rerun still going, or a failed or cancelled run within its grace period; see
 * `findMediaReferences`): such blobs are queued in `media_orphans`, where the cleanup job deletes
 * them once nothing uses them.
 *
 * One transaction deletes the rows (`returning` their keys) and applies the reference rule; the
 * blobs are deleted after it commits (a failure leaves the blob to the cleanup job, never a
 * content pointing at a missing one). `userId`, when given, restricts the
 * deletion to that user's contents (the API's delete route). The transaction never touches `db`.
 *
 * @example
 * ```ts
 * import { createFsBlobStore } from '@vidgenie/nodes';
 * import { deleteContents, migrateToLatest, openDatabase } from '@vidgenie/server';
 * const { db, close } = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
 * await migrateToLatest(db);
 * const blobs = createFsBlobStore({ root: './.vidgenie-example/media' });
 * const result = await deleteContents({ db, blobs }, { ids: ['cnt_1'], userId: 'usr_1' });
 * console.log(result.contents === 1 ? 'deleted' : 'not found'); // not found
 * await close();
 * ```
 */
export async function deleteContents(
  options: DeleteContentsOptions,
  target: { readonly ids: readonly string[]; readonly userId?: string },
): Promise<DeleteContentsResult> {
  const { db, blobs, log } = options;
  if (target.ids.length === 0) return { contents: 0, blobsDeleted: 0, blobsKept: 0, blobsFailed: 0 };
  const now = options.now ?? new Date();
  const graceHours = options.orphanGraceHours ?? DEFAULT_ORPHAN_GRACE_HOURS;
  const { deleted, candidates, kept } = await db.transaction().execute(async (trx) => {
    const rows = await trx
      .deleteFrom('contents')
      .where('id', 'in', target.ids)
      .$if(target.userId !== undefined, (query) => query.where('user_id', '=', target.userId as string))
      .returning(['user_id', 'run_id', 'image_key', 'video_key', 'thumbnail_key'])
      .execute();
    /** Every blob the deleted rows referenced, with its owner and run. */
    const owned = new Map<string, { readonly userId: string; readonly runId: string }>();
    for (const row of rows) {
      for (const key of [row.image_key, row.video_key, row.thumbnail_key]) {
        if (key !== null) owned.set(key, { userId: row.user_id, runId: row.run_id });
      }
    }
    const refs = await findMediaReferences(trx, [...owned.keys()], { now, graceHours });
    // A live run (a rerun still going, or a failed one within its grace period) may still read
    // these: they wait in media_orphans, and the cleanup job deletes them once nothing uses them.
    const waiting = [...owned].filter(([key]) => !refs.byContents.has(key) && refs.byRuns.has(key));
    if (waiting.length > 0) {
      await trx
        .insertInto('media_orphans')
        .values(
          waiting.map(([key, from]) => ({ key, user_id: from.userId, run_id: from.runId, eligible_at: now })),
        )
        .onConflict((conflict) => conflict.column('key').doNothing())
        .execute();
    }
    const unreferenced = [...owned].filter(([key]) => !refs.byContents.has(key) && !refs.byRuns.has(key));
    return { deleted: rows.length, candidates: unreferenced, kept: owned.size - unreferenced.length };
  });
  let blobsDeleted = 0;
  let blobsFailed = 0;
  for (const [key, from] of candidates) {
    try {
      await blobs.delete({ key });
      blobsDeleted += 1;
    } catch (error) {
      blobsFailed += 1;
      log?.warn(
        { err: error, key },
        'deleting a content blob failed; the cleanup job tries again in an hour',
      );
      await retryLater(db, key, from, now).catch((retryError: unknown) =>
        log?.warn(
          { err: retryError, key },
          'could not queue the blob for the cleanup job; it is left in the store',
        ),
      );
    }
  }
  return { contents: deleted, blobsDeleted, blobsKept: kept, blobsFailed };
}

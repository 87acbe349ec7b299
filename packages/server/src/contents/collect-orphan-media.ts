import type { BlobStore } from '@vidgenie/nodes';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DB } from '../db/schema.ts';
import { findMediaReferences } from './find-media-references.ts';

/** Options of {@link collectOrphanMedia}. */
export interface CollectOrphanMediaOptions {
  readonly db: Kysely<DB>;
  readonly blobs: BlobStore;
  /** The current time: keys whose `eligible_at` has passed are looked at. */
  readonly now: Date;
  /** `VIDGENIE_ORPHAN_MEDIA_HOURS`: how long a failed or cancelled run keeps its media for a rerun. */
  readonly graceHours: number;
  /** Keys claimed per transaction (default 200). */
  readonly batchSize?: number;
  readonly log?: Pick<Logger, 'warn'>;
}

/** What {@link collectOrphanMedia} did. */
export interface CollectOrphanMediaResult {
  /** Blobs deleted (or already gone: deleting is idempotent). */
  readonly blobsDeleted: number;
  /** Keys a content references again (a rerun completed with them): dropped from the queue, blob kept. */
  readonly blobsKept: number;
  /** Keys a live run may still read: left in the queue and looked at again an hour later. */
  readonly blobsWaiting: number;
  /** Blobs whose deletion failed (logged; queued again for an hour later). */
  readonly blobsFailed: number;
}

/** How long a key still in use (or whose deletion failed) waits before the next look. */
const RECHECK_MS = 3_600_000;

/**
 * The orphan half of the media cleanup job: deletes the blobs queued in `media_orphans` (media of
 * failed and cancelled runs, queued when they ended with `eligible_at` = end +
 * `VIDGENIE_ORPHAN_MEDIA_HOURS`; content blobs a live run still used when their content was
 * deleted) once their time has come and the reference rule (`findMediaReferences`) says nothing
 * uses them any more. A key a content now references (a "rerun from here" completed with the
 * failed run's image) leaves the queue and stays with that content; a key a live run may read
 * waits another hour.
 *
 * Safe when several workers run it at once (or a job is delivered twice): each batch is claimed
 * with `for update skip locked` and its rows deleted in the same transaction, so every key is
 * handled by one worker; blobs are deleted after the commit, and deleting a blob that is already
 * gone is no error (`BlobStore.delete` is idempotent). A failed deletion queues the key again.
 *
 * @example
 * ```ts
 * import { createFsBlobStore } from '@vidgenie/nodes';
 * import { collectOrphanMedia, migrateToLatest, openDatabase } from '@vidgenie/server';
 * const { db, close } = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
 * await migrateToLatest(db);
 * const blobs = createFsBlobStore({ root: './.vidgenie-example/media' });
 * const report = await collectOrphanMedia({ db, blobs, now: new Date(), graceHours: 24 });
 * console.log(`${report.blobsDeleted} orphan files deleted`);
 * await close();
 * ```
 */
export async function collectOrphanMedia(
  options: CollectOrphanMediaOptions,
): Promise<CollectOrphanMediaResult> {
  const { db, blobs, now, graceHours, log } = options;
  if (!Number.isFinite(graceHours) || graceHours < 0) {
    throw new RangeError(`graceHours must be a non-negative number, not ${graceHours}.`);
  }
  const batchSize = options.batchSize ?? 200;
  const later = new Date(now.getTime() + RECHECK_MS);
  const total = { blobsDeleted: 0, blobsKept: 0, blobsWaiting: 0, blobsFailed: 0 };
  for (;;) {
    const claimed = await db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('media_orphans')
        .select(['key', 'user_id', 'run_id'])
        .where('eligible_at', '<=', now)
        .orderBy('eligible_at')
        .orderBy('key')
        .limit(batchSize)
        .forUpdate()
        .skipLocked()
        .execute();
      if (rows.length === 0) return undefined;
      const refs = await findMediaReferences(
        trx,
        rows.map((row) => row.key),
        { now, graceHours },
      );
      const waiting = rows.filter((row) => !refs.byContents.has(row.key) && refs.byRuns.has(row.key));
      const done = rows.filter((row) => refs.byContents.has(row.key) || !refs.byRuns.has(row.key));
      if (waiting.length > 0) {
        await trx
          .updateTable('media_orphans')
          .set({ eligible_at: later })
          .where(
            'key',
            'in',
            waiting.map((row) => row.key),
          )
          .execute();
      }
      if (done.length > 0) {
        await trx
          .deleteFrom('media_orphans')
          .where(
            'key',
            'in',
            done.map((row) => row.key),
          )
          .execute();
      }
      return {
        deletable: done.filter((row) => !refs.byContents.has(row.key)),
        kept: done.length - done.filter((row) => !refs.byContents.has(row.key)).length,
        waiting: waiting.length,
      };
    });
    if (claimed === undefined) break;
    total.blobsKept += claimed.kept;
    total.blobsWaiting += claimed.waiting;
    for (const row of claimed.deletable) {
      try {
        await blobs.delete({ key: row.key });
        total.blobsDeleted += 1;
      } catch (error) {
        total.blobsFailed += 1;
        log?.warn({ err: error, key: row.key }, 'deleting an orphan blob failed; trying again in an hour');
        await db
          .insertInto('media_orphans')
          .values({ key: row.key, user_id: row.user_id, run_id: row.run_id, eligible_at: later })
          .onConflict((conflict) => conflict.column('key').doNothing())
          .execute()
          .catch((retryError: unknown) =>
            log?.warn({ err: retryError, key: row.key }, 'could not queue the orphan blob again'),
          );
      }
    }
  }
  return total;
}

import type { BlobStore } from '@vidgenie/nodes';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DB } from '../db/schema.ts';
import { type DeleteContentsResult, deleteContents } from './delete-contents.ts';

/** Options of {@link deleteExpiredMedia}. */
export interface DeleteExpiredMediaOptions {
  readonly db: Kysely<DB>;
  readonly blobs: BlobStore;
  /** The current time: contents created before `now - retentionDays` expire. */
  readonly now: Date;
  /** The retention period (`VIDGENIE_MEDIA_RETENTION_DAYS`), a positive whole number of days. */
  readonly retentionDays: number;
  /**
   * `VIDGENIE_ORPHAN_MEDIA_HOURS` (default 24): a failed or cancelled rerun younger than this still
   * protects the keys it reused (see {@link deleteContents}).
   */
  readonly orphanGraceHours?: number;
  /** Contents deleted per transaction (default 200). */
  readonly batchSize?: number;
  readonly log?: Pick<Logger, 'warn'>;
}

const DAY_MS = 86_400_000;

/**
 * The retention job: deletes every content created more than `retentionDays` before `now`, with
 * its media, oldest first and a batch per transaction. Blobs follow the library's reference rule
 * (see {@link deleteContents}): an expired parent's image that a newer rerun still uses is kept until
 * that rerun expires too, and one a rerun still running reads waits in `media_orphans` until it
 * ends. Returns the totals. The media cleanup job (`runMediaCleanup`) runs it hourly when
 * `VIDGENIE_MEDIA_RETENTION_DAYS` is set.
 *
 * @example
 * ```ts
 * import { createFsBlobStore } from '@vidgenie/nodes';
 * import { deleteExpiredMedia, migrateToLatest, openDatabase } from '@vidgenie/server';
 * const { db, close } = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
 * await migrateToLatest(db);
 * const blobs = createFsBlobStore({ root: './.vidgenie-example/media' });
 * const report = await deleteExpiredMedia({ db, blobs, now: new Date(), retentionDays: 30 });
 * console.log(`${report.contents} contents and ${report.blobsDeleted} files deleted`);
 * await close();
 * ```
 */
export async function deleteExpiredMedia(options: DeleteExpiredMediaOptions): Promise<DeleteContentsResult> {
  const { db, blobs, now, retentionDays, log } = options;
  if (!Number.isInteger(retentionDays) || retentionDays < 1) {
    throw new RangeError(`retentionDays must be a positive whole number, not ${retentionDays}.`);
  }
  const cutoff = new Date(now.getTime() - retentionDays * DAY_MS);
  const batchSize = options.batchSize ?? 200;
  const total = { contents: 0, blobsDeleted: 0, blobsKept: 0, blobsFailed: 0 };
  for (;;) {
    const rows = await db
      .selectFrom('contents')
      .select('id')
      .where('created_at', '<', cutoff)
      .orderBy('created_at')
      .orderBy('id')
      .limit(batchSize)
      .execute();
    if (rows.length === 0) break;
    const result = await deleteContents(
      {
        db,
        blobs,
        now,
        ...(options.orphanGraceHours === undefined ? {} : { orphanGraceHours: options.orphanGraceHours }),
        ...(log === undefined ? {} : { log }),
      },
      { ids: rows.map((row) => row.id) },
    );
    total.contents += result.contents;
    total.blobsDeleted += result.blobsDeleted;
    total.blobsKept += result.blobsKept;
    total.blobsFailed += result.blobsFailed;
    // Another process deleted them first: stop rather than loop on a moving set.
    if (result.contents === 0) break;
  }
  return total;
}

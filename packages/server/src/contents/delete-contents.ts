import type { BlobStore } from '@vidgenie/nodes';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DB } from '../db/schema.ts';

/** Options of {@link deleteContents}. */
export interface DeleteContentsOptions {
  readonly db: Kysely<DB>;
  /** The store the contents' media is in. */
  readonly blobs: BlobStore;
  /** Where a blob that could not be deleted is reported (its row is gone either way). */
  readonly log?: Pick<Logger, 'warn'>;
}

/** What {@link deleteContents} did. */
export interface DeleteContentsResult {
  /** Content rows deleted. */
  readonly contents: number;
  /** Media blobs deleted. */
  readonly blobsDeleted: number;
  /** Media blobs kept because another content of the same user still references them. */
  readonly blobsKept: number;
  /** Media blobs whose deletion failed (logged; left in the store). */
  readonly blobsFailed: number;
}

/**
 * Deletes contents and then their media, except blobs still referenced by another content of the
 * same user: a rerun reuses its parent's outputs under the parent run's keys ("same image, new
 * video" shares the image), so a blob goes only with the last content that references it.
 *
 * One transaction deletes the rows (`returning` their keys) and finds which of those keys the
 * user's remaining contents reference; the blobs are deleted after it commits (a failure leaves an
 * orphan blob, never a content pointing at a missing one). `userId`, when given, restricts the
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
  const { deleted, candidates, kept } = await db.transaction().execute(async (trx) => {
    const rows = await trx
      .deleteFrom('contents')
      .where('id', 'in', target.ids)
      .$if(target.userId !== undefined, (query) => query.where('user_id', '=', target.userId as string))
      .returning(['user_id', 'image_key', 'video_key', 'thumbnail_key'])
      .execute();
    /** `user\nkey` of every blob the deleted rows referenced. */
    const owned = new Set<string>();
    for (const row of rows) {
      for (const key of [row.image_key, row.video_key, row.thumbnail_key]) {
        if (key !== null) owned.add(`${row.user_id}\n${key}`);
      }
    }
    const keys = [...new Set([...owned].map((entry) => entry.slice(entry.indexOf('\n') + 1)))];
    const users = [...new Set(rows.map((row) => row.user_id))];
    const still = new Set<string>();
    if (keys.length > 0) {
      const referencing = await trx
        .selectFrom('contents')
        .select(['user_id', 'image_key', 'video_key', 'thumbnail_key'])
        .where('user_id', 'in', users)
        .where((eb) =>
          eb.or([eb('image_key', 'in', keys), eb('video_key', 'in', keys), eb('thumbnail_key', 'in', keys)]),
        )
        .execute();
      for (const row of referencing) {
        for (const key of [row.image_key, row.video_key, row.thumbnail_key]) {
          if (key !== null) still.add(`${row.user_id}\n${key}`);
        }
      }
    }
    return {
      deleted: rows.length,
      candidates: [...owned].filter((entry) => !still.has(entry)),
      kept: [...owned].filter((entry) => still.has(entry)).length,
    };
  });
  let blobsDeleted = 0;
  let blobsFailed = 0;
  for (const entry of candidates) {
    const key = entry.slice(entry.indexOf('\n') + 1);
    try {
      await blobs.delete({ key });
      blobsDeleted += 1;
    } catch (error) {
      blobsFailed += 1;
      log?.warn({ err: error, key }, 'deleting a content blob failed; it is left in the store');
    }
  }
  return { contents: deleted, blobsDeleted, blobsKept: kept, blobsFailed };
}

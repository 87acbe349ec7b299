import type { BlobStore } from '@vidgenie/nodes';

/** Options of {@link createUserScopedBlobStore}. */
export interface UserScopedBlobStoreOptions {
  /** The store the objects really go to. */
  readonly blobs: BlobStore;
  /** The owner of a run (a user id), or undefined when the run is not known here. */
  readonly ownerOf: (runId: string) => string | undefined;
}

/** `runs/<runId>/<rest>`: the keys nodes write. */
const RUN_KEY = /^runs\/([^/]+)\/(.+)$/;
/** What a user id must look like to become a key segment (ids from `newId`). */
const SAFE_SEGMENT = /^[A-Za-z0-9_-]{1,255}$/;

/**
 * A {@link BlobStore} that files each run's media under its owner: nodes write
 * `runs/<runId>/<nodeId>.<ext>`, and this store keeps it as `users/<userId>/runs/<runId>/<nodeId>.<ext>`
 * (the returned `BlobInfo.key` is the stored key, so the node's output reference points at it).
 * Every method maps a `runs/<runId>/…` key the same way while `ownerOf(runId)` knows the run; any
 * other key (already `users/…`, a run not known here such as a rerun's parent, or anything else)
 * passes through unchanged, so downstream nodes and reruns reading stored keys keep working.
 * A user id that is not a safe key segment throws a `TypeError`.
 *
 * Per-user prefixes let an operator find, move or delete one user's media (and set bucket policies
 * per prefix); they are not what keeps users apart: media is only served through the authorised
 * routes, which read keys from the caller's own content records or, during a run, from the caller's
 * own run's checkpointed node outputs (and check the prefix too).
 *
 * @example
 * ```ts
 * import { createFsBlobStore } from '@vidgenie/nodes';
 * import { createUserScopedBlobStore } from '@vidgenie/server';
 * const owners = new Map([['run_1', 'usr_1']]);
 * const blobs = createUserScopedBlobStore({
 *   blobs: createFsBlobStore({ root: '.vidgenie/media' }),
 *   ownerOf: (runId) => owners.get(runId),
 * });
 * const info = await blobs.put({ key: 'runs/run_1/image.png', body: new Uint8Array([1]), mimeType: 'image/png' });
 * console.log(info.key); // "users/usr_1/runs/run_1/image.png"
 * ```
 */
export function createUserScopedBlobStore(options: UserScopedBlobStoreOptions): BlobStore {
  const { blobs, ownerOf } = options;
  const scoped = (key: string): string => {
    const match = typeof key === 'string' ? RUN_KEY.exec(key) : null;
    if (match === null) return key;
    const userId = ownerOf(match[1] as string);
    if (userId === undefined) return key;
    if (!SAFE_SEGMENT.test(userId)) {
      throw new TypeError(`The owner of run ${JSON.stringify(match[1])} is not a valid key segment.`);
    }
    return `users/${userId}/${key}`;
  };
  // Mapping throws synchronously for a bad owner: reject instead, as the store's own methods do.
  const at = <T>(key: string, action: (stored: string) => Promise<T>): Promise<T> => {
    try {
      return action(scoped(key));
    } catch (error) {
      return Promise.reject(error);
    }
  };
  const putFile = blobs.putFile?.bind(blobs);
  const store: BlobStore = {
    put: ({ key, body, mimeType }) => at(key, (stored) => blobs.put({ key: stored, body, mimeType })),
    getBytes: ({ key }) => at(key, (stored) => blobs.getBytes({ key: stored })),
    getStream: ({ key }) => at(key, (stored) => blobs.getStream({ key: stored })),
    stat: ({ key }) => at(key, (stored) => blobs.stat({ key: stored })),
    delete: ({ key }) => at(key, (stored) => blobs.delete({ key: stored })),
    localPath: ({ key }) => at(key, (stored) => blobs.localPath({ key: stored })),
    url: ({ key, expiresInSeconds }) =>
      at(key, (stored) =>
        blobs.url(expiresInSeconds === undefined ? { key: stored } : { key: stored, expiresInSeconds }),
      ),
    // Files handed over go to the owner's folder too, where the inner store takes them.
    ...(putFile === undefined
      ? {}
      : {
          putFile: ({ key, path, mimeType }) => at(key, (stored) => putFile({ key: stored, path, mimeType })),
        }),
  };
  return Object.freeze(store);
}

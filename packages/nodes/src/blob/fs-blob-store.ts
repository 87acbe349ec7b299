import { randomUUID } from 'node:crypto';
import { createReadStream, type Dirent } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { lstat, mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BlobInfo, BlobStore } from './blob-store.ts';

/** The suffix of the sidecar file that keeps an object's mime type. Keys may not end with it. */
const META_SUFFIX = '.meta.json';

/** Mime types by extension, for objects whose sidecar is missing (files copied in by hand). */
const MIME_BY_EXTENSION: Readonly<Record<string, string>> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.mov': 'video/quicktime',
  '.json': 'application/json',
  '.txt': 'text/plain',
};
const DEFAULT_MIME = 'application/octet-stream';
/** How many known folders a store remembers before it starts over. */
const FOLDER_MEMORY = 10_000;

/**
 * A {@link BlobStore} on the local filesystem: the object `runs/r1/image.png` is the file
 * `<root>/runs/r1/image.png`.
 *
 * - **Atomic writes**: bytes go to a temporary file in the object's own folder
 *   (`<name>.<uuid>.tmp`), which is then renamed over the object, so readers see the old object
 *   or the new one, never a partial file.
 * - **Mime types** come from the extension (`.png`, `.mp4`, …), else `application/octet-stream`;
 *   a type the extension does not imply is kept in a sidecar file `<object>.meta.json`
 *   (`{"mimeType": ...}`), written the same way just before the object is renamed into place
 *   (and removed when the object is written again with its implied type). Keys may therefore not
 *   end with `.meta.json`.
 * - **`putFile`** renames the file into place when it is on the store's volume (no byte copied)
 *   and copies it otherwise (another volume, a symbolic link, a file with other hard links), then
 *   removes it.
 * - **Keys** are relative `/`-separated paths: no leading `/`, no backslash, no `..`, `.` or empty
 *   segment, no NUL. Other keys throw a `TypeError` naming the problem, so nothing escapes `root`.
 * - `localPath` is the object's own path and `url` its `file://` URL (`expiresInSeconds` is
 *   ignored). Reading or locating a missing object rejects; `delete` of one does nothing.
 *
 * @example
 * ```ts
 * import { createFsBlobStore } from '@vidgenie/nodes';
 * const blobs = createFsBlobStore({ root: '.vidgenie/media' });
 * await blobs.put({ key: 'runs/r1/prompt.txt', body: new TextEncoder().encode('a fox'), mimeType: 'text/plain' });
 * const info = await blobs.stat({ key: 'runs/r1/prompt.txt' }); // { key, bytes: 5, mimeType: 'text/plain' }
 * const url = await blobs.url({ key: 'runs/r1/prompt.txt' }); // file:///…/.vidgenie/media/runs/r1/prompt.txt
 * ```
 */
export function createFsBlobStore(options: { readonly root: string }): BlobStore {
  const root = resolve(options.root);
  const pathOf = (key: string) => {
    const path = join(root, ...checkKey(key).split('/'));
    // Belt and braces: a checked key always stays under root.
    if (!path.startsWith(`${root}${sep}`)) throw new TypeError(`Invalid blob key ${JSON.stringify(key)}.`);
    return path;
  };

  const statFile = async (path: string) => {
    try {
      const info = await stat(path);
      return info.isFile() ? info : undefined;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  };
  const existing = async (key: string) => {
    const path = pathOf(key);
    if ((await statFile(path)) === undefined) throw new Error(`No blob "${key}" in ${root}.`);
    return path;
  };
  const mimeTypeOf = async (path: string) => {
    try {
      const meta = JSON.parse(await readFile(`${path}${META_SUFFIX}`, 'utf8')) as { mimeType?: unknown };
      if (typeof meta.mimeType === 'string' && meta.mimeType !== '') return meta.mimeType;
    } catch (error) {
      if (!isNotFound(error) && !(error instanceof SyntaxError)) throw error;
    }
    return impliedMimeType(path);
  };

  /**
   * Folders known to exist (made or written to here), so a put into one skips its `mkdir`; a put
   * that finds its folder gone (removed by hand) makes it again. Forgotten past FOLDER_MEMORY.
   */
  const folders = new Set<string>();
  const makeFolder = async (folder: string) => {
    await mkdir(folder, { recursive: true });
    if (folders.size >= FOLDER_MEMORY) folders.clear();
    folders.add(folder);
  };

  /**
   * Keeps the object's type beside it when its extension does not imply it, and removes an earlier
   * sidecar when it does (no sidecar to write then: three filesystem calls fewer per object, each a
   * hand-off to libuv's thread pool). Done before the object is renamed into place.
   */
  const writeSidecar = async (path: string, mimeType: string, remake: () => Promise<void>) => {
    if (mimeType === impliedMimeType(path)) {
      await unlink(`${path}${META_SUFFIX}`).catch((error: unknown) => {
        if (!isNotFound(error)) throw error;
      });
      return;
    }
    const meta = await writeTemp(`${path}${META_SUFFIX}`, `${JSON.stringify({ mimeType })}\n`, remake);
    await rename(meta.path, `${path}${META_SUFFIX}`);
  };

  const store: BlobStore = {
    async put({ key, body, mimeType }): Promise<BlobInfo> {
      const path = pathOf(key);
      const folder = dirname(path);
      if (!folders.has(folder)) await makeFolder(folder);
      const remake = () => makeFolder(folder);
      // The body first (a failing stream leaves nothing), then the sidecar, then the rename.
      const temp = await writeTemp(path, body, remake);
      try {
        await writeSidecar(path, mimeType, remake);
        await rename(temp.path, path);
      } catch (error) {
        await rm(temp.path, { force: true });
        throw error;
      }
      return { key, bytes: temp.size, mimeType };
    },
    async putFile({ key, path: source, mimeType }): Promise<BlobInfo> {
      const path = pathOf(key);
      const folder = dirname(path);
      let info: Awaited<ReturnType<typeof lstat>>;
      try {
        info = await lstat(source);
      } catch (error) {
        if (isNotFound(error)) throw new Error(`No file at ${JSON.stringify(source)} to store as "${key}".`);
        throw error;
      }
      if (!info.isFile() && !info.isSymbolicLink()) {
        throw new TypeError(`${JSON.stringify(source)} is not a file: only files can be stored as "${key}".`);
      }
      // A link (or a file with other names) is copied: moved in, it would let whoever holds the
      // other name change the stored object, or point outside the store.
      const copy = async () => {
        const stored = await store.put({
          key,
          body: createReadStream(source, { highWaterMark: 1 << 20 }),
          mimeType,
        });
        await rm(source, { force: true });
        return stored;
      };
      if (!info.isFile() || info.nlink > 1) return copy();
      if (!folders.has(folder)) await makeFolder(folder);
      await writeSidecar(path, mimeType, () => makeFolder(folder));
      try {
        await rename(source, path);
      } catch (error) {
        const code = (error as { code?: unknown } | null)?.code;
        // Another volume: copy. The folder removed by hand since it was made: make it again.
        if (code === 'EXDEV') return copy();
        if (!isNotFound(error)) throw error;
        await makeFolder(folder);
        await rename(source, path);
      }
      return { key, bytes: info.size, mimeType };
    },
    async getBytes({ key }) {
      const path = await existing(key);
      return new Uint8Array(await readFile(path));
    },
    async getStream({ key }) {
      const path = await existing(key);
      try {
        // Opening first makes an object deleted meanwhile reject here, not while iterating.
        const handle = await open(path, 'r');
        return handle.createReadStream();
      } catch (error) {
        if (isNotFound(error)) throw new Error(`No blob "${key}" in ${root}.`, { cause: error });
        throw error;
      }
    },
    async stat({ key }) {
      const path = pathOf(key);
      const info = await statFile(path);
      return info === undefined ? undefined : { key, bytes: info.size, mimeType: await mimeTypeOf(path) };
    },
    async delete({ key }) {
      const path = pathOf(key);
      await rm(path, { force: true });
      await rm(`${path}${META_SUFFIX}`, { force: true });
    },
    localPath: ({ key }) => existing(key),
    url: async ({ key }) => pathToFileURL(await existing(key)).href,
    async *list({ prefix }) {
      const folder = checkFolderPrefix(prefix);
      yield* walk(pathOf(folder.slice(0, -1)), folder);
    },
  };
  return Object.freeze(store);
}

/** Checks a blob key and returns it; throws a `TypeError` saying what is wrong. @internal */
export function checkKey(key: string): string {
  const problem =
    typeof key !== 'string' || key === ''
      ? 'it is empty'
      : key.includes('\\')
        ? 'it contains a backslash (use "/")'
        : key.startsWith('/') || /^[A-Za-z]:/.test(key)
          ? 'it is an absolute path'
          : key.includes('\0')
            ? 'it contains a NUL character'
            : key.split('/').some((s) => s === '..')
              ? 'it contains a ".." segment'
              : key.split('/').some((s) => s === '' || s === '.')
                ? 'it contains an empty or "." segment'
                : key.endsWith(META_SUFFIX)
                  ? `"${META_SUFFIX}" is reserved for metadata`
                  : undefined;
  if (problem !== undefined) {
    throw new TypeError(
      `Invalid blob key ${JSON.stringify(key)}: ${problem}. Use a relative path like "runs/r1/image.png".`,
    );
  }
  return key;
}

/** Temporary files of writes in progress (`<name>.<uuid>.tmp`), which are not objects. */
const TEMP_FILE = /\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.tmp$/;

/** The objects' keys in `dir` and below, `keyPrefix` naming `dir`. */
async function* walk(dir: string, keyPrefix: string): AsyncGenerator<string> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
  for (const entry of entries) {
    if (entry.isDirectory()) yield* walk(join(dir, entry.name), `${keyPrefix}${entry.name}/`);
    else if (entry.isFile() && !entry.name.endsWith(META_SUFFIX) && !TEMP_FILE.test(entry.name))
      yield `${keyPrefix}${entry.name}`;
  }
}

/**
 * Checks a `list` prefix: a folder, `/`-terminated, whose path is a valid key; returns it.
 * @internal
 */
export function checkFolderPrefix(prefix: string): string {
  if (typeof prefix !== 'string' || !prefix.endsWith('/')) {
    throw new TypeError(
      `Invalid blob prefix ${JSON.stringify(prefix)}: list takes a folder ending with "/", like "runs/r1/".`,
    );
  }
  checkKey(prefix.slice(0, -1));
  return prefix;
}

/**
 * Writes `body` to a new temporary file beside `path` (removed again on failure) and returns its
 * path and size, counted as the bytes go. When the folder is missing, `remake` makes it and the
 * file is opened again (nothing of `body` was read yet).
 */
async function writeTemp(
  path: string,
  body: string | Uint8Array | AsyncIterable<Uint8Array>,
  remake: () => Promise<void>,
): Promise<{ path: string; size: number }> {
  const temp = join(dirname(path), `${basename(path)}.${randomUUID()}.tmp`);
  let handle: FileHandle;
  try {
    handle = await open(temp, 'w');
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await remake();
    handle = await open(temp, 'w');
  }
  let size = 0;
  try {
    if (typeof body === 'string') {
      size = Buffer.byteLength(body);
      await writeFile(handle, body);
    } else if (body instanceof Uint8Array) {
      size = body.byteLength;
      await writeFile(handle, body);
    } else {
      await writeFile(
        handle,
        (async function* counted() {
          for await (const chunk of body) {
            size += chunk.byteLength;
            yield chunk;
          }
        })(),
      );
    }
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw error;
  }
  try {
    await handle.close();
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  return { path: temp, size };
}

/** The mime type an object's extension implies, for objects with no sidecar. */
function impliedMimeType(path: string): string {
  return MIME_BY_EXTENSION[extname(path).toLowerCase()] ?? DEFAULT_MIME;
}

function isNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat as statFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { BlobInfo, BlobStore } from './blob-store.ts';
import { checkFolderPrefix, checkKey } from './fs-blob-store.ts';

/** S3's limit for one PutObject: 5 GiB. */
const MAX_PUT_BYTES = 5 * 1024 ** 3;
const DEFAULT_MIME = 'application/octet-stream';

/** Options of {@link createS3BlobStore}. */
export interface S3BlobStoreOptions {
  /** The bucket; it must exist. */
  readonly bucket: string;
  /** A folder inside the bucket for every key, e.g. `vidgenie/media` (no leading or trailing `/` needed). */
  readonly prefix?: string;
  /** A client of your own (left open by {@link S3BlobStore.dispose}); otherwise one is made from `clientConfig`. */
  readonly client?: S3Client;
  /** Config for the client the store makes: `region`, `credentials`, and for S3-compatible servers `endpoint` and `forcePathStyle: true`. */
  readonly clientConfig?: S3ClientConfig;
  /** Where streamed uploads are spooled and `localPath` copies are kept. Default: the OS temp folder. */
  readonly tempDir?: string;
  /** The largest object `put` accepts, in bytes. Default and maximum: 5 GiB (one PutObject). */
  readonly maxObjectBytes?: number;
}

/** Arguments of {@link S3BlobStore.presignedUrl}. */
export interface PresignedUrlArgs {
  readonly key: string;
  /** How long the URL works, in seconds (default 300, at most 7 days). */
  readonly expiresInSeconds?: number;
  /** The `Content-Type` S3 answers with (default: the object's). */
  readonly contentType?: string;
  /** The `Content-Disposition` S3 answers with, e.g. `attachment; filename="video.mp4"`. */
  readonly contentDisposition?: string;
}

/** A {@link BlobStore} on S3, with presigned downloads and a way to free its local files. */
export interface S3BlobStore extends BlobStore {
  /**
   * A presigned GET URL for the object (SigV4 query authentication, signed locally with the
   * client's credentials: no request is made, and the object's existence is not checked). Anyone
   * holding it can download the object until it expires, with Range requests served by S3.
   */
  presignedUrl(args: PresignedUrlArgs): Promise<string>;
  /** Removes the local copies made by `localPath` (their paths stop working) and closes the client the store made. */
  dispose(): Promise<void>;
}

/**
 * A {@link BlobStore} on Amazon S3 or an S3-compatible server (MinIO, R2, s3rver…), with the
 * official `@aws-sdk/client-s3`. The object `runs/r1/image.png` is `s3://<bucket>/<prefix>/runs/r1/image.png`.
 *
 * - **Keys** follow the filesystem store's rules (relative `/` paths, no `..`, `.` or empty
 *   segment, no backslash, no NUL, not ending with `.meta.json`), so a key that works in
 *   development works in production. Other keys throw a `TypeError`.
 * - **Mime types** are the objects' `Content-Type`; `stat` reads it and the size with HeadObject.
 * - **Bytes** go up with one PutObject. **Streams** are spooled to a temporary file while their
 *   SHA-256 is computed, then sent with one PutObject with a known `Content-Length` and
 *   `x-amz-checksum-sha256`, which S3 verifies; the file is removed afterwards. This keeps memory
 *   flat for videos, stores nothing when the stream fails, needs no `@aws-sdk/lib-storage`, and
 *   avoids the SDK's `aws-chunked` streaming upload, which S3-compatible servers such as s3rver
 *   store verbatim (chunk headers included). Objects are limited to 5 GiB (PutObject's limit).
 *   **Files** handed over with `putFile` are their own spool: hashed in one read, sent the same
 *   way, then removed.
 * - `localPath` downloads the object to a temporary file named after the key (ffmpeg sees the
 *   extension) and reuses it while the object's ETag is unchanged (one HeadObject per call).
 *   {@link S3BlobStore.dispose} removes these files.
 * - `url` is the object's plain URL, exactly as the SDK addresses it (path-style or virtual-hosted,
 *   endpoint and region included); it works for public buckets and S3-compatible servers without
 *   auth. `expiresInSeconds` is ignored. `presignedUrl` gives a time-limited signed one.
 * - Reading or locating a missing object rejects with `No blob "<key>" in s3://…`; `delete` of a
 *   missing one does nothing. Other S3 errors (access denied, missing bucket) are the SDK's own.
 *
 * @example
 * ```ts
 * import { createS3BlobStore } from '@vidgenie/nodes';
 * const blobs = createS3BlobStore({
 *   bucket: 'vidgenie-media',
 *   prefix: 'prod',
 *   clientConfig: { region: 'eu-west-3' }, // credentials from the environment
 * });
 * await blobs.put({ key: 'runs/r1/prompt.txt', body: new TextEncoder().encode('a fox'), mimeType: 'text/plain' });
 * const info = await blobs.stat({ key: 'runs/r1/prompt.txt' }); // { key, bytes: 5, mimeType: 'text/plain' }
 * ```
 */
export function createS3BlobStore(options: S3BlobStoreOptions): S3BlobStore {
  const bucket = options.bucket;
  if (typeof bucket !== 'string' || bucket === '') throw new TypeError('createS3BlobStore needs a bucket.');
  const prefix = normalizePrefix(options.prefix);
  const ownsClient = options.client === undefined;
  const client = options.client ?? new S3Client(options.clientConfig ?? {});
  const maxBytes = Math.min(options.maxObjectBytes ?? MAX_PUT_BYTES, MAX_PUT_BYTES);
  const where = `s3://${bucket}${prefix === '' ? '' : `/${prefix}`}`;

  const objectKey = (key: string) => (prefix === '' ? checkKey(key) : `${prefix}/${checkKey(key)}`);
  const missing = (key: string, cause?: unknown) =>
    new Error(`No blob "${key}" in ${where}.`, cause === undefined ? {} : { cause });

  // One folder per store for spooled uploads and local copies, made on first use.
  let workDir: Promise<string> | undefined;
  const ensureWorkDir = () => {
    workDir ??= mkdtemp(join(options.tempDir ?? tmpdir(), 'vidgenie-s3-'));
    return workDir;
  };
  /** Local copies by key, with the ETag they were downloaded at. */
  const copies = new Map<string, { readonly path: string; readonly etag: string | undefined }>();
  const downloads = new Map<string, Promise<string>>();
  const forget = async (key: string) => {
    const copy = copies.get(key);
    copies.delete(key);
    if (copy !== undefined) await rm(copy.path, { force: true });
  };

  const head = async (key: string): Promise<HeadObjectCommandOutput | undefined> => {
    try {
      return await client.send(new HeadObjectCommand({ Bucket: bucket, Key: objectKey(key) }));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  };
  const getObject = async (key: string): Promise<GetObjectCommandOutput & { Body: object }> => {
    let output: GetObjectCommandOutput;
    try {
      output = await client.send(new GetObjectCommand({ Bucket: bucket, Key: objectKey(key) }));
    } catch (error) {
      if (isNotFound(error)) throw missing(key, error);
      throw error;
    }
    if (output.Body === undefined) throw new Error(`S3 answered no body for "${key}" in ${where}.`);
    return output as GetObjectCommandOutput & { Body: object };
  };

  const download = async (key: string): Promise<string> => {
    const info = await head(key);
    if (info === undefined) throw missing(key);
    const copy = copies.get(key);
    if (copy !== undefined && copy.etag !== undefined && copy.etag === info.ETag) {
      if ((await statFile(copy.path).catch(() => undefined))?.isFile()) return copy.path;
    }
    const output = await getObject(key);
    const dir = join(await ensureWorkDir(), 'copies', randomUUID());
    await mkdir(dir, { recursive: true });
    const path = join(dir, basename(key));
    try {
      await writeFile(path, bodyStream(output.Body));
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
    await forget(key);
    copies.set(key, { path, etag: output.ETag });
    return path;
  };

  const store: S3BlobStore = {
    async put({ key, body, mimeType }): Promise<BlobInfo> {
      const Key = objectKey(key);
      if (body instanceof Uint8Array) {
        if (body.byteLength > maxBytes) throw tooLarge(key, maxBytes);
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key,
            Body: body,
            ContentLength: body.byteLength,
            ContentType: mimeType,
          }),
        );
        await forget(key);
        return { key, bytes: body.byteLength, mimeType };
      }
      const spool = await spoolStream(key, body, await ensureWorkDir(), maxBytes);
      try {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key,
            Body: createReadStream(spool.path),
            ContentLength: spool.bytes,
            ChecksumSHA256: spool.sha256,
            ContentType: mimeType,
          }),
        );
      } finally {
        await rm(spool.path, { force: true });
      }
      await forget(key);
      return { key, bytes: spool.bytes, mimeType };
    },
    async putFile({ key, path, mimeType }): Promise<BlobInfo> {
      const Key = objectKey(key);
      // The file is its own spool: its SHA-256 in one read, then the upload from it (no copy).
      const file = await hashFile(key, path, maxBytes);
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key,
          Body: createReadStream(path),
          ContentLength: file.bytes,
          ChecksumSHA256: file.sha256,
          ContentType: mimeType,
        }),
      );
      await forget(key);
      await rm(path, { force: true });
      return { key, bytes: file.bytes, mimeType };
    },
    async getBytes({ key }) {
      const { Body } = await getObject(key);
      const bytes = (Body as { transformToByteArray?: () => Promise<Uint8Array> }).transformToByteArray;
      if (typeof bytes === 'function') return await bytes.call(Body);
      const parts: Uint8Array[] = [];
      for await (const part of bodyStream(Body)) parts.push(part);
      return new Uint8Array(Buffer.concat(parts));
    },
    async getStream({ key }) {
      return bodyStream((await getObject(key)).Body);
    },
    async stat({ key }) {
      const info = await head(key);
      if (info === undefined) return undefined;
      return { key, bytes: info.ContentLength ?? 0, mimeType: info.ContentType || DEFAULT_MIME };
    },
    async *list({ prefix: folder }) {
      const Prefix = prefix === '' ? checkFolderPrefix(folder) : `${prefix}/${checkFolderPrefix(folder)}`;
      let ContinuationToken: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix, ContinuationToken }),
        );
        for (const object of page.Contents ?? []) {
          if (object.Key !== undefined)
            yield prefix === '' ? object.Key : object.Key.slice(prefix.length + 1);
        }
        ContinuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      } while (ContinuationToken !== undefined);
    },
    async delete({ key }) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: objectKey(key) }));
      await forget(key);
    },
    localPath({ key }) {
      try {
        checkKey(key);
      } catch (error) {
        return Promise.reject(error);
      }
      // Concurrent calls for one key share a download.
      let pending = downloads.get(key);
      if (pending === undefined) {
        pending = download(key).finally(() => downloads.delete(key));
        downloads.set(key, pending);
      }
      return pending;
    },
    async presignedUrl(args: PresignedUrlArgs) {
      const command = new GetObjectCommand({
        Bucket: bucket,
        Key: objectKey(args.key),
        ...(args.contentType === undefined ? {} : { ResponseContentType: args.contentType }),
        ...(args.contentDisposition === undefined
          ? {}
          : { ResponseContentDisposition: args.contentDisposition }),
      });
      const expiresIn = Math.min(Math.max(1, Math.floor(args.expiresInSeconds ?? 300)), 7 * 24 * 3600);
      return getSignedUrl(client, command, { expiresIn });
    },
    async url({ key }) {
      // A HeadObject both checks the object exists and shows the URL the SDK resolves for it.
      const command = new HeadObjectCommand({ Bucket: bucket, Key: objectKey(key) });
      let url: string | undefined;
      command.middlewareStack.add(
        (next) => async (args) => {
          url = requestUrl(args.request);
          return next(args);
        },
        { step: 'finalizeRequest', name: 'vidgenieObjectUrl' },
      );
      try {
        await client.send(command);
      } catch (error) {
        if (isNotFound(error)) throw missing(key, error);
        throw error;
      }
      if (url === undefined) throw new Error(`Could not resolve the URL of "${key}" in ${where}.`);
      return url;
    },
    async dispose() {
      copies.clear();
      if (workDir !== undefined) {
        const dir = await workDir.catch(() => undefined);
        workDir = undefined;
        if (dir !== undefined) await rm(dir, { recursive: true, force: true });
      }
      if (ownsClient) client.destroy();
    },
  };
  return Object.freeze(store);
}

/** Writes a stream to a temporary file, counting and hashing it; removes the file on failure. */
async function spoolStream(
  key: string,
  body: AsyncIterable<Uint8Array>,
  dir: string,
  maxBytes: number,
): Promise<{ path: string; bytes: number; sha256: string }> {
  const path = join(dir, `upload-${randomUUID()}.tmp`);
  const measure = measured(key, body, maxBytes);
  try {
    await writeFile(path, measure.chunks);
  } catch (error) {
    await rm(path, { force: true });
    throw error;
  }
  return { path, ...measure.result() };
}

/**
 * `body`'s chunks passed through, counted and hashed on the way; rejects past `maxBytes`.
 * `result` gives the size and SHA-256 (base64) once the chunks are consumed.
 */
function measured(
  key: string,
  body: AsyncIterable<Uint8Array>,
  maxBytes: number,
): { chunks: AsyncIterable<Uint8Array>; result(): { bytes: number; sha256: string } } {
  const hash = createHash('sha256');
  let bytes = 0;
  async function* chunks(): AsyncIterable<Uint8Array> {
    for await (const chunk of body) {
      bytes += chunk.byteLength;
      if (bytes > maxBytes) throw tooLarge(key, maxBytes);
      hash.update(chunk);
      yield chunk;
    }
  }
  return { chunks: chunks(), result: () => ({ bytes, sha256: hash.digest('base64') }) };
}

/** A local file's size and SHA-256 (base64), read once; rejects when it is not a file or too large. */
async function hashFile(
  key: string,
  path: string,
  maxBytes: number,
): Promise<{ bytes: number; sha256: string }> {
  const info = await statFile(path).catch((error: unknown) => {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new Error(`No file at ${JSON.stringify(path)} to store as "${key}".`, { cause: error });
    }
    throw error;
  });
  if (!info.isFile()) {
    throw new TypeError(`${JSON.stringify(path)} is not a file: only files can be stored as "${key}".`);
  }
  if (info.size > maxBytes) throw tooLarge(key, maxBytes);
  const measure = measured(key, createReadStream(path, { highWaterMark: 1 << 20 }), maxBytes);
  for await (const _ of measure.chunks);
  return measure.result();
}

function tooLarge(key: string, maxBytes: number): RangeError {
  return new RangeError(
    `Blob "${key}" is larger than ${maxBytes} bytes, the most this S3 store takes in one object.`,
  );
}

/** A GetObject body as an async iterable of bytes (Node gives a Readable, browsers a web stream). */
function bodyStream(body: object): AsyncIterable<Uint8Array> {
  if (Symbol.asyncIterator in body) return body as AsyncIterable<Uint8Array>;
  const web = (body as { transformToWebStream?: () => ReadableStream<Uint8Array> }).transformToWebStream;
  if (typeof web === 'function') return web.call(body) as unknown as AsyncIterable<Uint8Array>;
  throw new TypeError('S3 answered a body that is not a stream.');
}

/** The URL of an HTTP request as the SDK is about to send it, without its query string. */
function requestUrl(request: unknown): string | undefined {
  const r = request as { protocol?: string; hostname?: string; port?: number; path?: string } | undefined;
  if (r?.hostname === undefined || r.path === undefined) return undefined;
  const protocol = (r.protocol ?? 'https:').replace(/:?$/, ':');
  const port = r.port === undefined ? '' : `:${r.port}`;
  return `${protocol}//${r.hostname}${port}${r.path}`;
}

function normalizePrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? '').replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return '';
  try {
    return checkKey(trimmed);
  } catch (error) {
    throw new TypeError(`Invalid S3 prefix ${JSON.stringify(prefix)}.`, { cause: error });
  }
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown } } | null;
  return e?.$metadata?.httpStatusCode === 404 && e.name !== 'NoSuchBucket';
}

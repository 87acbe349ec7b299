import type { BlobStore } from '@vidgenie/nodes';
import type { Context } from 'hono';
import { ApiError } from '../errors/api-error.ts';
import type { AppEnv } from '../http/app-env.ts';
import type { MediaRedirects } from './media-redirects.ts';
import { parseByteRange } from './parse-byte-range.ts';
import { sliceStream } from './slice-stream.ts';
import { toWebStream } from './to-web-stream.ts';

/** The media types served as themselves, with their file extensions; anything else is a download. */
const SERVABLE: Readonly<Record<string, string>> = {
  'video/mp4': 'mp4',
  'video/webm': 'webm',
  'video/quicktime': 'mov',
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
};

/** What {@link serveMedia} serves. */
export interface ServeMediaArgs {
  readonly blobs: BlobStore;
  /** The blob key (from the caller's own content record: never from the request). */
  readonly key: string;
  /** The download's file name without extension; only `[A-Za-z0-9._-]` are kept. */
  readonly name: string;
  /** `attachment` (save) instead of `inline` (play in the page). */
  readonly download: boolean;
  /** Deliver by redirect to a presigned URL (S3) instead of streaming the bytes. */
  readonly redirects?: MediaRedirects;
}

/**
 * Streams a blob as an HTTP response: `Content-Type` from the store (video and image types only;
 * anything else, SVG included, is `application/octet-stream` and always an attachment),
 * `Content-Length`, `Accept-Ranges: bytes`, `Content-Disposition` (inline, or attachment with an
 * ASCII file name), `Cache-Control: private`. A single `Range` answers 206 with `Content-Range`;
 * a range past the end answers 416 `RANGE_NOT_SATISFIABLE` with a `Content-Range` header giving the size.
 * A blob missing from the store answers 404. The bytes are streamed, never buffered whole.
 * @internal
 */
export async function serveMedia(c: Context<AppEnv>, args: ServeMediaArgs): Promise<Response> {
  const { blobs, key } = args;
  const info = await blobs.stat({ key });
  if (info === undefined) {
    c.get('services').log.warn({ requestId: c.get('requestId'), key }, 'a content blob is missing');
    throw new ApiError('NOT_FOUND', 'This media file is no longer stored.');
  }
  const size = info.bytes;
  const mimeType = info.mimeType.toLowerCase().split(';')[0]?.trim() ?? '';
  const extension = SERVABLE[mimeType];
  const fileName = `${args.name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 200)}.${extension ?? 'bin'}`;
  const disposition = args.download || extension === undefined ? 'attachment' : 'inline';
  const contentType = extension === undefined ? 'application/octet-stream' : mimeType;
  if (args.redirects !== undefined) {
    // The owner check is done; the bucket (or CDN) serves the bytes and any Range, with the same
    // type and disposition as a streamed answer.
    const location = await args.redirects.urlFor({
      key,
      contentType,
      contentDisposition: `${disposition}; filename="${fileName}"`,
    });
    return c.body(null, 302, { Location: location, 'Cache-Control': 'private, no-store' });
  }
  const range = parseByteRange(c.req.header('range'), size);
  if (range === 'unsatisfiable') {
    throw new ApiError('RANGE_NOT_SATISFIABLE', `The range is outside the file (${size} bytes).`, {
      headers: { 'Content-Range': `bytes */${size}`, 'Accept-Ranges': 'bytes' },
    });
  }
  const headers: Record<string, string> = {
    'Content-Type': contentType,
    'Content-Length': String(range === undefined ? size : range.end - range.start + 1),
    'Content-Disposition': `${disposition}; filename="${fileName}"`,
    'Accept-Ranges': 'bytes',
    'Cache-Control': 'private, max-age=300',
  };
  if (range !== undefined) headers['Content-Range'] = `bytes ${range.start}-${range.end}/${size}`;
  const status = range === undefined ? 200 : 206;
  // HEAD (Hono answers it with the GET route): the headers only, no file opened.
  if (c.req.method === 'HEAD') return c.body(null, status, headers);
  const source = await blobs.getStream({ key }).catch(async (error: unknown) => {
    // Deleted between the stat and the read: gone, not a server error.
    if ((await blobs.stat({ key })) === undefined)
      throw new ApiError('NOT_FOUND', 'This media file is gone.');
    throw error;
  });
  const body = range === undefined ? source : sliceStream(source, range.start, range.end);
  // A client that goes away before reading closes the file (or the S3 socket) at once.
  const stream = toWebStream(body, { close: () => (source as { destroy?: () => void }).destroy?.() });
  return c.body(stream, status, headers);
}

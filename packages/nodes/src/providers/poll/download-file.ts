import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

/** Why a download failed. */
export type DownloadFailure =
  /** The server answered an HTTP error (`status` says which). */
  | 'status'
  /** The file is larger than `maxBytes`. */
  | 'too_large'
  /** The download took longer than `timeoutMs`. */
  | 'timeout'
  /** The connection failed or broke off, or the server redirected too often. */
  | 'network';

/** A failed download; the message names the host, never the URL's query (signed URLs carry tokens). */
export class DownloadError extends Error {
  override readonly name = 'DownloadError';
  readonly failure: DownloadFailure;
  /** The HTTP status, for `status` failures. */
  readonly status: number | undefined;
  constructor(message: string, fields: { failure: DownloadFailure; status?: number; cause?: unknown }) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.failure = fields.failure;
    this.status = fields.status;
  }
}

/** Options of {@link downloadToFile}. */
export interface DownloadOptions {
  readonly url: string;
  /** Where to write the file (created or replaced; removed again if the download fails). */
  readonly path: string;
  readonly signal: AbortSignal;
  /** Request headers (an API key, say). Sent to redirect targets only when `keepHeadersOnRedirect` allows. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Whether a redirect target may receive `headers`. Default: only the same origin as `url`. */
  readonly keepHeadersOnRedirect?: ((target: URL) => boolean) | undefined;
  /** The whole download's time limit, in ms. Default 5 min. */
  readonly timeoutMs?: number | undefined;
  /** The largest file accepted, in bytes. Default 1 GiB. */
  readonly maxBytes?: number | undefined;
  /** The fetch to use (tests). Default the global `fetch`. */
  readonly fetch?: typeof fetch | undefined;
}

const MAX_REDIRECTS = 5;

/**
 * Downloads a URL to a file at once (provider output URLs expire), streaming it to disk with a
 * size cap, a time limit and abort. Redirects are followed by hand so that credentials in
 * `headers` only go where `keepHeadersOnRedirect` allows. Resolves with the byte count and the
 * content type; rejects with a {@link DownloadError}, or with the signal's reason on abort.
 *
 * @example
 * ```ts
 * import { downloadToFile } from '@vidgenie/nodes';
 * declare const url: string;
 * declare const signal: AbortSignal;
 * const { bytes } = await downloadToFile({ url, path: '/tmp/clip.mp4', signal, maxBytes: 200 * 2 ** 20 });
 * ```
 */
export async function downloadToFile(
  options: DownloadOptions,
): Promise<{ readonly bytes: number; readonly contentType: string | undefined }> {
  const { path, signal } = options;
  const timeoutMs = options.timeoutMs ?? 5 * 60_000;
  const maxBytes = options.maxBytes ?? 2 ** 30;
  const fetchFn = options.fetch ?? fetch;
  const keep = options.keepHeadersOnRedirect;
  signal.throwIfAborted();
  const timeout = AbortSignal.timeout(timeoutMs);
  const combined = AbortSignal.any([signal, timeout]);
  let url = new URL(options.url);
  const origin = url.origin;
  const describe = () => `${url.protocol}//${url.host}${url.pathname}`;

  try {
    let response: Response | undefined;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const sendHeaders = hop === 0 || (keep === undefined ? url.origin === origin : keep(url));
      response = await fetchFn(url, {
        headers: sendHeaders ? { ...options.headers } : {},
        redirect: 'manual',
        signal: combined,
      });
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location !== null) {
        await response.body?.cancel().catch(() => {});
        url = new URL(location, url);
        response = undefined;
        continue;
      }
      break;
    }
    if (response === undefined) {
      throw new DownloadError(`Too many redirects downloading ${describe()}.`, { failure: 'network' });
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      throw new DownloadError(`Downloading ${describe()} failed with HTTP ${response.status}.`, {
        failure: 'status',
        status: response.status,
      });
    }
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (declared > maxBytes) {
      await response.body?.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    if (response.body === null) throw new DownloadError('The download had no body.', { failure: 'network' });
    let bytes = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        if (bytes > maxBytes) callback(tooLarge(maxBytes));
        else callback(null, chunk);
      },
    });
    await pipeline(
      Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
      counter,
      createWriteStream(path),
      { signal: combined },
    );
    return { bytes, contentType: response.headers.get('content-type') ?? undefined };
  } catch (error) {
    await rm(path, { force: true });
    signal.throwIfAborted();
    if (error instanceof DownloadError) throw error;
    if (timeout.aborted) {
      throw new DownloadError(
        `Downloading ${describe()} took longer than ${Math.round(timeoutMs / 1000)} s.`,
        {
          failure: 'timeout',
          cause: error,
        },
      );
    }
    throw new DownloadError(`Downloading ${describe()} failed: ${errorText(error)}.`, {
      failure: 'network',
      cause: error,
    });
  }
}

function tooLarge(maxBytes: number): DownloadError {
  return new DownloadError(`The file is larger than ${Math.round(maxBytes / 2 ** 20)} MiB.`, {
    failure: 'too_large',
  });
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}

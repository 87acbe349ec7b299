import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeHttpServer, startFakeHttpServer } from '../../testing/fakes/fake-http-server.ts';
import { DownloadError, downloadToFile } from './download-file.ts';

let folder: string;
let origin: FakeHttpServer;
let other: FakeHttpServer;
const seenKeys: (string | undefined)[] = [];
const payload = new Uint8Array(64 * 1024).map((_, i) => i % 251);

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'vidgenie-download-test-'));
  other = await startFakeHttpServer([
    {
      method: 'GET',
      path: '/file',
      name: 'file',
      handle: (request) => {
        seenKeys.push(request.headers['x-api-key'] as string | undefined);
        return { body: payload };
      },
    },
  ]);
  origin = await startFakeHttpServer([
    { method: 'GET', path: '/file', name: 'file', handle: () => ({ body: payload }) },
    {
      method: 'GET',
      path: '/redirect',
      name: 'redirect',
      handle: () => ({ status: 302, headers: { location: `${other.url}/file` } }),
    },
    {
      method: 'GET',
      path: '/loop',
      name: 'loop',
      handle: () => ({ status: 302, headers: { location: '/loop' } }),
    },
    {
      method: 'GET',
      path: '/gone',
      name: 'gone',
      handle: () => ({ status: 404, body: { error: 'expired' } }),
    },
  ]);
});
afterAll(async () => {
  await Promise.all([origin.close(), other.close()]);
  await rm(folder, { recursive: true, force: true });
});

const signal = () => new AbortController().signal;
/** The DownloadError a download rejected with. */
async function downloadError(promise: Promise<unknown>): Promise<DownloadError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof DownloadError)) throw new Error(`expected a DownloadError, got ${String(error)}`);
  return error;
}

describe('downloadToFile', () => {
  it('streams the body to the file', async () => {
    const path = join(folder, 'ok.bin');
    const { bytes } = await downloadToFile({ url: `${origin.url}/file`, path, signal: signal() });
    expect(bytes).toBe(payload.length);
    expect(new Uint8Array(await readFile(path))).toEqual(payload);
  });

  it('refuses a file over the size cap and leaves no file behind', async () => {
    const path = join(folder, 'big.bin');
    const error = await downloadToFile({
      url: `${origin.url}/file`,
      path,
      signal: signal(),
      maxBytes: 1000,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as DownloadError).failure).toBe('too_large');
    await expect(stat(path)).rejects.toThrow();
  });

  it('reports HTTP errors with their status, and timeouts', async () => {
    const gone = await downloadError(
      downloadToFile({
        url: `${origin.url}/gone`,
        path: join(folder, 'x'),
        signal: signal(),
      }),
    );
    expect(gone.failure).toBe('status');
    expect(gone.status).toBe(404);

    origin.inject('file', { kind: 'hang' });
    const slow = await downloadError(
      downloadToFile({
        url: `${origin.url}/file`,
        path: join(folder, 'y'),
        signal: signal(),
        timeoutMs: 50,
      }),
    );
    expect(slow.failure).toBe('timeout');

    const loop = await downloadError(
      downloadToFile({
        url: `${origin.url}/loop`,
        path: join(folder, 'z'),
        signal: signal(),
      }),
    );
    expect(loop.failure).toBe('network');
  });

  it('rejects with the abort reason when aborted', async () => {
    origin.inject('file', { kind: 'hang' });
    const controller = new AbortController();
    const reason = new Error('stop');
    setTimeout(() => controller.abort(reason), 20);
    await expect(
      downloadToFile({ url: `${origin.url}/file`, path: join(folder, 'a'), signal: controller.signal }),
    ).rejects.toBe(reason);
  });

  it('sends credentials to another origin only when allowed', async () => {
    seenKeys.length = 0;
    const headers = { 'x-api-key': 'secret-key-123' };
    await downloadToFile({
      url: `${origin.url}/redirect`,
      path: join(folder, 'r1'),
      signal: signal(),
      headers,
    });
    await downloadToFile({
      url: `${origin.url}/redirect`,
      path: join(folder, 'r2'),
      signal: signal(),
      headers,
      keepHeadersOnRedirect: (target) => target.origin === other.url,
    });
    expect(seenKeys).toEqual([undefined, 'secret-key-123']);
  });
});

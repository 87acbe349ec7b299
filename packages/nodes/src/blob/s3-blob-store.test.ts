import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeBlobStoreConformance } from './blob-store-conformance.ts';
import { createS3BlobStore, type S3BlobStore, type S3BlobStoreOptions } from './s3-blob-store.ts';

/** The part of s3rver (no type declarations) these tests use. */
interface S3rverServer {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverClass = new (options: {
  readonly port: number;
  readonly address: string;
  readonly silent: boolean;
  readonly directory: string;
  readonly configureBuckets: readonly { readonly name: string }[];
}) => S3rverServer;
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverClass;

const BUCKET = 'vidgenie-media';
let server: S3rverServer;
let directory: string;
let tempDir: string;
let clientConfig: S3ClientConfig;
let raw: S3Client;
const stores: S3BlobStore[] = [];

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'vidgenie-s3rver-'));
  tempDir = await mkdtemp(join(tmpdir(), 'vidgenie-s3-store-test-'));
  server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory,
    configureBuckets: [{ name: BUCKET }],
  });
  const { port } = await server.run();
  clientConfig = {
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  };
  raw = new S3Client(clientConfig);
});

afterAll(async () => {
  for (const store of stores) await store.dispose();
  raw?.destroy();
  await server?.close();
  await rm(directory, { recursive: true, force: true });
  await rm(tempDir, { recursive: true, force: true });
});

const makeStore = (options: Partial<S3BlobStoreOptions> = {}) => {
  const store = createS3BlobStore({ bucket: BUCKET, clientConfig, tempDir, ...options });
  stores.push(store);
  return store;
};
const bytes = (text: string) => new TextEncoder().encode(text);

describeBlobStoreConformance({
  name: 's3 (s3rver)',
  createStore: () => makeStore(),
  list: true,
  putFile: true,
  describe,
  it,
});
describeBlobStoreConformance({
  name: 's3 (s3rver) with a prefix',
  createStore: () => makeStore({ prefix: `/tenants/${randomUUID()}/` }),
  list: true,
  putFile: true,
  describe,
  it,
});

describe('createS3BlobStore', () => {
  it('stores objects under the prefix, with their content type', async () => {
    const prefix = `p-${randomUUID()}`;
    const store = makeStore({ prefix });
    await store.put({ key: 'runs/r1/a.txt', body: bytes('hello'), mimeType: 'text/plain' });
    const head = await raw.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${prefix}/runs/r1/a.txt` }));
    expect(head).toMatchObject({ ContentType: 'text/plain', ContentLength: 5 });
  });

  it('uploads a stream with its exact bytes (not aws-chunked framing) and a SHA-256 S3 checks', async () => {
    const sent: Record<string, string>[] = [];
    const client = new S3Client(clientConfig);
    client.middlewareStack.add(
      (next) => async (args) => {
        sent.push({ ...(args.request as { headers: Record<string, string> }).headers });
        return next(args);
      },
      { step: 'finalizeRequest', name: 'recordHeaders' },
    );
    const spied = makeStore({ client, prefix: `p-${randomUUID()}` });
    async function* parts() {
      yield bytes('abc');
      yield bytes('def');
    }
    await spied.put({ key: 'clip.mp4', body: parts(), mimeType: 'video/mp4' });
    const put = sent.find((h) => h['content-type'] === 'video/mp4');
    expect(put?.['content-length']).toBe('6');
    expect(put?.['x-amz-checksum-sha256']).toBe('vvV+x/U6bUC+tkCngKY5yDvCmsipgW8fxsXG3Nk8RyE=');
    expect(put?.['content-encoding']).toBeUndefined();
    expect(new TextDecoder().decode(await spied.getBytes({ key: 'clip.mp4' }))).toBe('abcdef');
    // The spool file is gone.
    expect((await readdir(tempDir, { recursive: true })).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await spied.dispose();
    // A client passed in is the caller's: dispose leaves it open.
    await expect(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'nope' }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
    client.destroy();
  });

  it('refuses objects over the size limit and stores nothing', async () => {
    const store = makeStore({ prefix: `p-${randomUUID()}`, maxObjectBytes: 4 });
    await expect(store.put({ key: 'a.bin', body: bytes('12345'), mimeType: 'x/y' })).rejects.toThrow(
      RangeError,
    );
    async function* parts() {
      yield bytes('123');
      yield bytes('45');
    }
    await expect(store.put({ key: 'a.bin', body: parts(), mimeType: 'x/y' })).rejects.toThrow(
      /larger than 4 bytes/,
    );
    expect(await store.stat({ key: 'a.bin' })).toBeUndefined();
    expect((await store.put({ key: 'a.bin', body: bytes('1234'), mimeType: 'x/y' })).bytes).toBe(4);
  });

  it('gives the path-style object URL the SDK uses, with the key encoded', async () => {
    const store = makeStore({ prefix: 'media' });
    await store.put({ key: 'runs/r 1/été.png', body: bytes('png'), mimeType: 'image/png' });
    const url = await store.url({ key: 'runs/r 1/été.png', expiresInSeconds: 60 });
    expect(url).toBe(`${clientConfig.endpoint as string}/${BUCKET}/media/runs/r%201/%C3%A9t%C3%A9.png`);
    const response = await fetch(url);
    expect(await response.text()).toBe('png');
    await expect(store.url({ key: 'runs/missing.png' })).rejects.toThrow(
      /No blob "runs\/missing.png" in s3:\/\//,
    );
  });

  it('signs download URLs that S3 serves, with Range and the response overrides', async () => {
    const store = makeStore({ prefix: 'media' });
    await store.put({ key: 'runs/r1/video.mp4', body: bytes('0123456789'), mimeType: 'video/mp4' });
    const url = await store.presignedUrl({
      key: 'runs/r1/video.mp4',
      expiresInSeconds: 120,
      contentDisposition: 'attachment; filename="clip.mp4"',
    });
    const parsed = new URL(url);
    expect(parsed.searchParams.get('X-Amz-Expires')).toBe('120');
    expect(parsed.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    // Signed locally by the SDK's SigV4 presigner (s3rver serves it without checking the signature).
    expect(parsed.searchParams.get('X-Amz-Credential')).toMatch(/^S3RVER\//);
    const whole = await fetch(url);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-disposition')).toBe('attachment; filename="clip.mp4"');
    expect(await whole.text()).toBe('0123456789');
    const part = await fetch(url, { headers: { range: 'bytes=2-4' } });
    expect(part.status).toBe(206);
    expect(await part.text()).toBe('234');
  });

  it('gives a virtual-hosted URL when path style is off', async () => {
    const requested: string[] = [];
    const store = makeStore({
      clientConfig: {
        region: 'eu-west-3',
        credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
        // No network: answer every request 200, as S3 would for an existing object.
        requestHandler: {
          handle: async (request: { hostname: string; path: string }) => {
            requested.push(`${request.hostname}${request.path}`);
            return {
              response: { statusCode: 200, headers: { 'content-length': '1' }, body: Readable.from([]) },
            };
          },
        },
      },
    });
    expect(await store.url({ key: 'runs/a b.png' })).toBe(
      `https://${BUCKET}.s3.eu-west-3.amazonaws.com/runs/a%20b.png`,
    );
    expect(requested).toEqual([`${BUCKET}.s3.eu-west-3.amazonaws.com/runs/a%20b.png`]);
  });

  it('reuses the local copy until the object changes, names it after the key, and dispose removes it', async () => {
    const store = makeStore({ prefix: `p-${randomUUID()}` });
    await store.put({ key: 'runs/r1/clip.mp4', body: bytes('one'), mimeType: 'video/mp4' });
    const [a, b] = await Promise.all([
      store.localPath({ key: 'runs/r1/clip.mp4' }),
      store.localPath({ key: 'runs/r1/clip.mp4' }),
    ]);
    expect(a).toBe(b);
    expect(a.endsWith('/clip.mp4')).toBe(true);
    expect(a.startsWith(tempDir)).toBe(true);
    expect(await store.localPath({ key: 'runs/r1/clip.mp4' })).toBe(a);
    await store.put({ key: 'runs/r1/clip.mp4', body: bytes('two!'), mimeType: 'video/mp4' });
    const c = await store.localPath({ key: 'runs/r1/clip.mp4' });
    expect(c).not.toBe(a);
    expect(await readFile(c, 'utf8')).toBe('two!');
    await store.delete({ key: 'runs/r1/clip.mp4' });
    await expect(readFile(c)).rejects.toThrow();
    await store.put({ key: 'runs/r1/clip.mp4', body: bytes('three'), mimeType: 'video/mp4' });
    const d = await store.localPath({ key: 'runs/r1/clip.mp4' });
    await store.dispose();
    await expect(readFile(d)).rejects.toThrow();
  });

  it('notices an object replaced by another writer', async () => {
    const prefix = `p-${randomUUID()}`;
    const reader = makeStore({ prefix });
    const writer = makeStore({ prefix });
    await writer.put({ key: 'x.txt', body: bytes('old'), mimeType: 'text/plain' });
    const first = await reader.localPath({ key: 'x.txt' });
    await writer.put({ key: 'x.txt', body: bytes('new!'), mimeType: 'text/plain' });
    const second = await reader.localPath({ key: 'x.txt' });
    expect(second).not.toBe(first);
    expect(await readFile(second, 'utf8')).toBe('new!');
  });

  it('surfaces S3 errors other than a missing object', async () => {
    const store = makeStore({ bucket: 'no-such-bucket' });
    await expect(store.put({ key: 'a.txt', body: bytes('x'), mimeType: 'text/plain' })).rejects.toMatchObject(
      {
        name: 'NoSuchBucket',
      },
    );
    await expect(store.getBytes({ key: 'a.txt' })).rejects.toMatchObject({ name: 'NoSuchBucket' });
  });

  it('checks its options', () => {
    expect(() => createS3BlobStore({ bucket: '' })).toThrow(/needs a bucket/);
    expect(() => createS3BlobStore({ bucket: BUCKET, prefix: 'a/../b', client: raw })).toThrow(
      /Invalid S3 prefix/,
    );
  });

  it('streams back a large object without buffering it first', async () => {
    const store = makeStore({ prefix: `p-${randomUUID()}` });
    const data = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7) % 256);
    await store.put({ key: 'big.bin', body: data, mimeType: 'application/octet-stream' });
    const stream = await store.getStream({ key: 'big.bin' });
    let chunks = 0;
    let total = 0;
    for await (const chunk of stream) {
      chunks += 1;
      total += chunk.byteLength;
    }
    expect(total).toBe(data.byteLength);
    expect(chunks).toBeGreaterThan(1);
    const direct = await raw
      .send(new GetObjectCommand({ Bucket: BUCKET, Key: 'big.bin' }))
      .catch(() => undefined);
    expect(direct).toBeUndefined(); // stored under the prefix, not at the bucket root
  });
});

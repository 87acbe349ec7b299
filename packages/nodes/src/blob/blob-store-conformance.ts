import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BlobInfo, BlobStore } from './blob-store.ts';

/** One conformance case: a name and a check that throws when the store misbehaves. */
export interface BlobStoreConformanceCase {
  readonly name: string;
  run(store: BlobStore): Promise<void>;
}

/** The test functions of a runner (Vitest, Jest, node:test all fit). */
export interface BlobStoreConformanceRunner {
  describe(name: string, body: () => void): void;
  it(name: string, body: () => Promise<void>): void;
}

/**
 * Registers the blob store conformance suite with a test runner. Every {@link BlobStore} (the
 * filesystem one, the S3 one, yours) must pass it. `createStore` is called once per case; cases
 * write under random keys (`conformance-<uuid>/…`), so stores may be shared or reused.
 *
 * The suite checks: bytes and streams round-trip (including a 6 MiB stream and an empty object),
 * `stat` gives the size and type, `put` overwrites, `delete` is idempotent, reading a missing key
 * rejects while `stat` gives undefined, a failing stream stores nothing, invalid keys (absolute,
 * `..`, backslash, empty) are refused by every method, `localPath` is a readable file with the same
 * bytes and `url` gives a URL string; with `list` and `putFile`, those optional methods too. Its
 * assertions are its own (they throw), so any runner works.
 *
 * @example
 * ```ts
 * import { describe, it } from 'vitest';
 * import { createFsBlobStore } from '@vidgenie/nodes';
 * import { describeBlobStoreConformance } from '@vidgenie/nodes/testing';
 * describeBlobStoreConformance({
 *   name: 'fs', createStore: () => createFsBlobStore({ root: '/tmp/blobs' }), describe, it,
 * });
 * ```
 */
export function describeBlobStoreConformance(
  args: BlobStoreConformanceRunner & {
    readonly name: string;
    readonly createStore: () => BlobStore | Promise<BlobStore>;
    /** The store implements the optional `list`: check it too. */
    readonly list?: boolean;
    /** The store implements the optional `putFile`: check it too. */
    readonly putFile?: boolean;
  },
): void {
  args.describe(`BlobStore conformance: ${args.name}`, () => {
    for (const c of blobStoreConformanceCases({ list: args.list ?? false, putFile: args.putFile ?? false })) {
      args.it(c.name, async () => c.run(await args.createStore()));
    }
  });
}

/**
 * The conformance cases, for runners that want to drive them directly; with `list` or `putFile`,
 * the cases of those optional `BlobStore` methods too.
 */
export function blobStoreConformanceCases(
  options: { readonly list?: boolean; readonly putFile?: boolean } = {},
): readonly BlobStoreConformanceCase[] {
  return [
    ...CASES,
    ...(options.list === true ? LIST_CASES : []),
    ...(options.putFile === true ? PUT_FILE_CASES : []),
  ];
}

/** Keys every store must refuse, whatever it does underneath. */
const INVALID_KEYS: readonly string[] = [
  '/etc/passwd',
  '../escape.txt',
  'runs/../../escape.txt',
  'runs\\r1\\a.png',
  '',
];

const newPrefix = () => `conformance-${globalThis.crypto.randomUUID()}`;
const encode = (text: string) => new TextEncoder().encode(text);

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`BlobStore conformance: ${message}`);
}

function same(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  check(a === e, `${what}: expected ${e}, got ${a}`);
}

function sameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  check(
    actual.byteLength === expected.byteLength,
    `${what}: expected ${expected.byteLength} bytes, got ${actual.byteLength}`,
  );
  const a = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength);
  if (a.equals(expected)) return;
  const at = a.findIndex((byte, i) => byte !== expected[i]);
  throw new Error(`BlobStore conformance: ${what}: bytes differ at offset ${at}`);
}

/** Calls `action` and checks that it throws or rejects; returns the error. */
async function rejects(action: () => Promise<unknown>, what: string): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error(`BlobStore conformance: ${what}: expected a rejection`);
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let length = 0;
  for await (const part of stream) {
    parts.push(part);
    length += part.byteLength;
  }
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

async function* chunksOf(data: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  for (let offset = 0; offset < data.byteLength; offset += size) {
    // A copy, as a socket or a file reader would hand out.
    yield data.slice(offset, offset + size);
    if (offset % (size * 16) === 0) await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Deterministic bytes that are not all alike (catches truncation, reordering and re-encoding). */
function pattern(length: number, seed = 7): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1_103_515_245 + 12_345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

async function readFileBytes(path: string): Promise<Uint8Array> {
  return new Uint8Array(await readFile(path));
}

const CASES: readonly BlobStoreConformanceCase[] = [
  {
    name: 'put bytes returns the info; getBytes and stat read them back',
    async run(store) {
      const key = `${newPrefix()}/runs/r1/a.bin`;
      const body = pattern(1000);
      const info = await store.put({ key, body, mimeType: 'application/x-test' });
      const expected: BlobInfo = { key, bytes: 1000, mimeType: 'application/x-test' };
      same(info, expected, 'put result');
      sameBytes(await store.getBytes({ key }), body, 'getBytes');
      same(await store.stat({ key }), expected, 'stat');
    },
  },
  {
    name: 'every byte value survives, and keys may hold spaces and non-ASCII letters',
    async run(store) {
      const key = `${newPrefix()}/runs/r 1/été (1)+x.bin`;
      const body = new Uint8Array(512).map((_, i) => i % 256);
      await store.put({ key, body, mimeType: 'application/octet-stream' });
      sameBytes(await store.getBytes({ key }), body, 'getBytes');
      sameBytes(await collect(await store.getStream({ key })), body, 'getStream');
    },
  },
  {
    name: 'an empty object round-trips with size 0',
    async run(store) {
      const key = `${newPrefix()}/empty.txt`;
      const info = await store.put({ key, body: new Uint8Array(0), mimeType: 'text/plain' });
      same(info.bytes, 0, 'put size');
      same((await store.getBytes({ key })).byteLength, 0, 'getBytes size');
      same(await store.stat({ key }), { key, bytes: 0, mimeType: 'text/plain' }, 'stat');
    },
  },
  {
    name: 'put takes a stream of chunks; getStream and getBytes give the bytes back',
    async run(store) {
      const key = `${newPrefix()}/v/clip.mp4`;
      const info = await store.put({ key, body: chunksOf(encode('abcdef'), 2), mimeType: 'video/mp4' });
      same(info, { key, bytes: 6, mimeType: 'video/mp4' }, 'put result');
      same(new TextDecoder().decode(await collect(await store.getStream({ key }))), 'abcdef', 'getStream');
      same(new TextDecoder().decode(await store.getBytes({ key })), 'abcdef', 'getBytes');
    },
  },
  {
    name: 'a multi-megabyte stream is stored whole',
    async run(store) {
      const key = `${newPrefix()}/big/video.mp4`;
      const body = pattern(6 * 1024 * 1024 + 123, 42);
      const info = await store.put({ key, body: chunksOf(body, 64 * 1024), mimeType: 'video/mp4' });
      same(info.bytes, body.byteLength, 'put size');
      same((await store.stat({ key }))?.bytes, body.byteLength, 'stat size');
      sameBytes(await collect(await store.getStream({ key })), body, 'getStream');
    },
  },
  {
    name: 'put replaces an object, its size and its type',
    async run(store) {
      const key = `${newPrefix()}/k.txt`;
      await store.put({ key, body: encode('first version'), mimeType: 'text/plain' });
      await store.put({ key, body: encode('v2'), mimeType: 'text/markdown' });
      same(new TextDecoder().decode(await store.getBytes({ key })), 'v2', 'bytes after overwrite');
      same(await store.stat({ key }), { key, bytes: 2, mimeType: 'text/markdown' }, 'stat after overwrite');
    },
  },
  {
    name: 'delete removes the object; deleting it again or a key never written does nothing',
    async run(store) {
      const prefix = newPrefix();
      const key = `${prefix}/d/x.txt`;
      const other = `${prefix}/d/y.txt`;
      await store.put({ key, body: encode('x'), mimeType: 'text/plain' });
      await store.put({ key: other, body: encode('y'), mimeType: 'text/plain' });
      await store.delete({ key });
      same(await store.stat({ key }), undefined, 'stat after delete');
      await rejects(() => store.getBytes({ key }), 'getBytes after delete');
      await store.delete({ key });
      await store.delete({ key: `${prefix}/never/written.txt` });
      same(new TextDecoder().decode(await store.getBytes({ key: other })), 'y', 'the other object');
    },
  },
  {
    name: 'reading a missing key rejects; stat of it is undefined',
    async run(store) {
      const prefix = newPrefix();
      const key = `${prefix}/nope.png`;
      await rejects(() => store.getBytes({ key }), 'getBytes of a missing key');
      await rejects(() => store.getStream({ key }), 'getStream of a missing key');
      await rejects(() => store.localPath({ key }), 'localPath of a missing key');
      same(await store.stat({ key }), undefined, 'stat of a missing key');
      // A "folder" holding objects is not an object.
      await store.put({ key: `${prefix}/runs/r1/a.png`, body: encode('x'), mimeType: 'image/png' });
      same(await store.stat({ key: `${prefix}/runs/r1` }), undefined, 'stat of a folder');
      await rejects(() => store.getBytes({ key: `${prefix}/runs` }), 'getBytes of a folder');
    },
  },
  {
    name: 'a stream that fails stores nothing and rejects with its error',
    async run(store) {
      const key = `${newPrefix()}/f/broken.bin`;
      async function* failing(): AsyncIterable<Uint8Array> {
        yield encode('partial');
        throw new Error('upload broke');
      }
      const error = await rejects(
        () => store.put({ key, body: failing(), mimeType: 'application/octet-stream' }),
        'put of a failing stream',
      );
      check(
        error instanceof Error && error.message.includes('upload broke'),
        `put of a failing stream: expected the stream's error, got ${String(error)}`,
      );
      same(await store.stat({ key }), undefined, 'stat after a failed put');
    },
  },
  {
    name: 'invalid keys (absolute, "..", backslash, empty) are refused by every method',
    async run(store) {
      for (const key of INVALID_KEYS) {
        const k = JSON.stringify(key);
        await rejects(() => store.put({ key, body: encode('x'), mimeType: 'text/plain' }), `put ${k}`);
        await rejects(
          () => store.put({ key, body: chunksOf(encode('x'), 1), mimeType: 'text/plain' }),
          `put ${k}`,
        );
        await rejects(() => store.getBytes({ key }), `getBytes ${k}`);
        await rejects(() => store.getStream({ key }), `getStream ${k}`);
        await rejects(() => store.stat({ key }), `stat ${k}`);
        await rejects(() => store.delete({ key }), `delete ${k}`);
        await rejects(() => store.localPath({ key }), `localPath ${k}`);
        await rejects(() => store.url({ key }), `url ${k}`);
      }
    },
  },
  {
    name: 'localPath is a readable file with the same bytes, also after an overwrite',
    async run(store) {
      const key = `${newPrefix()}/runs/r1/image.png`;
      const body = pattern(70_000, 3);
      await store.put({ key, body, mimeType: 'image/png' });
      const path = await store.localPath({ key });
      check(typeof path === 'string' && path !== '', `localPath returned ${JSON.stringify(path)}`);
      sameBytes(await readFileBytes(path), body, 'localPath file');
      sameBytes(await readFileBytes(await store.localPath({ key })), body, 'localPath file, asked again');
      const next = pattern(5_000, 4);
      await store.put({ key, body: next, mimeType: 'image/png' });
      sameBytes(await readFileBytes(await store.localPath({ key })), next, 'localPath file after overwrite');
    },
  },
  {
    name: 'url returns a URL string',
    async run(store) {
      const key = `${newPrefix()}/runs/r1/out.mp4`;
      await store.put({ key, body: encode('video'), mimeType: 'video/mp4' });
      const url = await store.url({ key, expiresInSeconds: 60 });
      check(typeof url === 'string' && url !== '', `url returned ${JSON.stringify(url)}`);
      check(URL.canParse(url), `url returned ${JSON.stringify(url)}, which does not parse as a URL`);
    },
  },
];

const listOf = async (store: BlobStore, prefix: string): Promise<string[]> => {
  check(store.list !== undefined, 'the store has no list, but the suite was told it does');
  const keys: string[] = [];
  for await (const key of store.list({ prefix })) keys.push(key);
  return keys.sort();
};

const LIST_CASES: readonly BlobStoreConformanceCase[] = [
  {
    name: 'list gives the keys under a folder, nested ones included, and no others',
    async run(store) {
      const prefix = newPrefix();
      const keys = [`${prefix}/r1/a.png`, `${prefix}/r1/x/b.mp4`, `${prefix}/r1/c d é.txt`];
      for (const key of [...keys, `${prefix}/r10/other.png`, `${prefix}/r2/other.png`])
        await store.put({ key, body: encode(key), mimeType: 'application/octet-stream' });
      same(await listOf(store, `${prefix}/r1/`), [...keys].sort(), 'keys under the folder');
      await store.delete({ key: keys[0]! });
      same(await listOf(store, `${prefix}/r1/`), keys.slice(1).sort(), 'keys after a delete');
      same(await listOf(store, `${prefix}/never/`), [], 'keys of a folder never written');
    },
  },
  {
    name: 'list refuses a prefix that is not a folder path',
    async run(store) {
      check(store.list !== undefined, 'the store has no list, but the suite was told it does');
      for (const prefix of ['runs/r1', '/runs/', '../', 'runs/../x/']) {
        await rejects(() => listOf(store, prefix), `list of ${JSON.stringify(prefix)}`);
      }
    },
  },
];

/**
 * Writes `bytes` to `name` in a new folder under the system's temporary folder, runs `work` with
 * its path, and removes the folder afterwards.
 */
async function withLocalFile(
  bytes: Uint8Array,
  name: string,
  work: (path: string) => Promise<void>,
): Promise<void> {
  const folder = await mkdtemp(join(tmpdir(), 'blob-conformance-'));
  try {
    const path = join(folder, name);
    await writeFile(path, bytes);
    await work(path);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

const putFileOf = (store: BlobStore) => {
  check(store.putFile !== undefined, 'the store has no putFile, but the suite was told it does');
  return store.putFile.bind(store);
};

const PUT_FILE_CASES: readonly BlobStoreConformanceCase[] = [
  {
    name: 'putFile stores the file, returns the info and takes the file away; it replaces an object',
    async run(store) {
      const putFile = putFileOf(store);
      const key = `${newPrefix()}/runs/r1/video.mp4`;
      await store.put({ key, body: encode('an earlier version'), mimeType: 'video/mp4' });
      const body = pattern(200_000, 5);
      await withLocalFile(body, 'clip.mp4', async (path) => {
        const info = await putFile({ key, path, mimeType: 'video/mp4' });
        const expected: BlobInfo = { key, bytes: body.byteLength, mimeType: 'video/mp4' };
        same(info, expected, 'putFile result');
        check(!(await exists(path)), 'the file is still at its path after putFile resolved');
        sameBytes(await store.getBytes({ key }), body, 'getBytes after putFile');
        same(await store.stat({ key }), expected, 'stat after putFile');
        sameBytes(await readFileBytes(await store.localPath({ key })), body, 'localPath file after putFile');
      });
    },
  },
  {
    name: 'putFile keeps a type the extension does not imply, and an empty file',
    async run(store) {
      const putFile = putFileOf(store);
      const key = `${newPrefix()}/runs/r1/clip.bin`;
      await withLocalFile(new Uint8Array(0), 'clip.bin', async (path) => {
        same(
          await putFile({ key, path, mimeType: 'video/webm' }),
          { key, bytes: 0, mimeType: 'video/webm' },
          'putFile result',
        );
        same(await store.stat({ key }), { key, bytes: 0, mimeType: 'video/webm' }, 'stat after putFile');
      });
    },
  },
  {
    name: 'putFile of a missing file or to an invalid key rejects, stores nothing and leaves the file',
    async run(store) {
      const putFile = putFileOf(store);
      const key = `${newPrefix()}/runs/r1/video.mp4`;
      await withLocalFile(encode('video bytes'), 'clip.mp4', async (path) => {
        const missing = join(path, '..', 'never-written.mp4');
        await rejects(
          () => putFile({ key, path: missing, mimeType: 'video/mp4' }),
          'putFile of a missing file',
        );
        same(await store.stat({ key }), undefined, 'stat after putFile of a missing file');
        for (const invalid of INVALID_KEYS) {
          await rejects(
            () => putFile({ key: invalid, path, mimeType: 'video/mp4' }),
            `putFile to ${JSON.stringify(invalid)}`,
          );
          check(await exists(path), `the file is gone after putFile to ${JSON.stringify(invalid)} rejected`);
        }
      });
    },
  },
];

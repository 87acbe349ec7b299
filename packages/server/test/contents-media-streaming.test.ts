import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BlobStore, createFsBlobStore } from '@vidgenie/nodes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseByteRange } from '../src/contents/parse-byte-range.ts';
import { sliceStream } from '../src/contents/slice-stream.ts';
import { toWebStream } from '../src/contents/to-web-stream.ts';

describe('parseByteRange', () => {
  it.each([
    [undefined, 1000, undefined],
    ['bytes=0-99', 1000, { start: 0, end: 99 }],
    ['bytes=0-0', 1000, { start: 0, end: 0 }],
    ['bytes=500-', 1000, { start: 500, end: 999 }],
    ['bytes=-100', 1000, { start: 900, end: 999 }],
    ['bytes=-5000', 1000, { start: 0, end: 999 }],
    ['bytes=990-5000', 1000, { start: 990, end: 999 }],
    ['Bytes = 1 - 2', 1000, { start: 1, end: 2 }],
    ['bytes=1000-', 1000, 'unsatisfiable'],
    ['bytes=5000-6000', 1000, 'unsatisfiable'],
    ['bytes=-0', 1000, 'unsatisfiable'],
    ['bytes=0-', 0, 'unsatisfiable'],
    ['bytes=-1', 0, 'unsatisfiable'],
    ['bytes=99999999999999999999-', 1000, 'unsatisfiable'],
    ['bytes=5-2', 1000, undefined],
    ['bytes=-', 1000, undefined],
    ['bytes=a-b', 1000, undefined],
    ['items=0-1', 1000, undefined],
    ['bytes=0-1,5-6', 1000, undefined],
  ] as const)('%s of %i bytes', (header, size, expected) => {
    expect(parseByteRange(header, size)).toEqual(expected);
  });
});

async function collect(stream: AsyncIterable<Uint8Array>): Promise<number[]> {
  const out: number[] = [];
  for await (const part of stream) out.push(...part);
  return out;
}

describe('sliceStream', () => {
  const chunks = (sizes: number[]) => {
    let next = 0;
    return sizes.map((size) => Uint8Array.from({ length: size }, () => next++));
  };
  it('gives exactly the range across chunk boundaries, and stops reading after its end', async () => {
    for (const [start, end] of [
      [0, 0],
      [0, 9],
      [3, 4],
      [2, 7],
      [5, 5],
      [9, 9],
      [4, 100],
    ] as const) {
      let pulled = 0;
      let closed = false;
      async function* source() {
        try {
          for (const chunk of chunks([3, 3, 4])) {
            pulled += 1;
            yield chunk;
          }
        } finally {
          closed = true;
        }
      }
      const expected = Array.from({ length: Math.min(end, 9) - start + 1 }, (_, i) => start + i);
      expect(await collect(sliceStream(source(), start, end)), `${start}-${end}`).toEqual(expected);
      expect(closed).toBe(true);
      expect(pulled).toBe(end < 3 ? 1 : end < 6 ? 2 : 3);
    }
  });
});

describe('toWebStream', () => {
  let root: string;
  let blobs: BlobStore;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'vidgenie-web-stream-'));
    blobs = createFsBlobStore({ root });
    await blobs.put({ key: 'a.bin', body: new Uint8Array(300_000).fill(7), mimeType: 'video/mp4' });
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('streams the bytes, and closes the file however the client stops (read, cancel before or while reading)', async () => {
    const openFiles = () => (existsSync('/proc/self/fd') ? readdirSync('/proc/self/fd').length : 0);
    const before = openFiles();
    for (const mode of ['read', 'slice', 'cancel', 'cancel-slice', 'cancel-midway']) {
      for (let i = 0; i < 10; i++) {
        const source = await blobs.getStream({ key: 'a.bin' });
        const body = mode.endsWith('slice') ? sliceStream(source, 10, 199_999) : source;
        const response = new Response(
          toWebStream(body, { close: () => (source as { destroy?: () => void }).destroy?.() }),
        );
        if (mode === 'read') expect((await response.arrayBuffer()).byteLength).toBe(300_000);
        else if (mode === 'slice') expect((await response.arrayBuffer()).byteLength).toBe(199_990);
        else if (mode === 'cancel-midway') {
          const reader = (response.body as ReadableStream<Uint8Array>).getReader();
          await reader.read();
          await reader.cancel();
        } else await response.body?.cancel();
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(openFiles()).toBe(before);
  });

  it('errors the stream when the source fails', async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array([1]);
      throw new Error('disk gone');
    }
    await expect(new Response(toWebStream(failing())).arrayBuffer()).rejects.toThrow();
  });
});

import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createFsBlobStore } from './fs-blob-store.ts';

/** Sources under this folder name are "on another volume": renaming them fails as the kernel does. */
const OTHER_VOLUME = 'other-volume-';

// Only `rename` changes, and only for sources under OTHER_VOLUME: every other call is the real one.
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...real,
    rename: async (from: string, to: string) => {
      if (String(from).includes(OTHER_VOLUME)) {
        throw Object.assign(
          new Error(`EXDEV: cross-device link not permitted, rename '${from}' -> '${to}'`),
          {
            code: 'EXDEV',
          },
        );
      }
      return real.rename(from, to);
    },
  };
});

let root: string;
let other: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'vidgenie-blobs-root-'));
  other = await mkdtemp(join(tmpdir(), OTHER_VOLUME));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(other, { recursive: true, force: true });
});

describe('createFsBlobStore putFile across volumes', () => {
  it('copies a file that cannot be renamed into place (another volume), then removes it', async () => {
    const blobs = createFsBlobStore({ root });
    const path = join(other, 'clip.webm');
    await writeFile(path, 'webm bytes');
    const expected = { key: 'runs/r1/video.bin', bytes: 10, mimeType: 'video/webm' };
    expect(await blobs.putFile?.({ key: 'runs/r1/video.bin', path, mimeType: 'video/webm' })).toEqual(
      expected,
    );
    expect(await readdir(other)).toEqual([]);
    expect(await blobs.stat({ key: 'runs/r1/video.bin' })).toEqual(expected);
    expect(await readFile(join(root, 'runs', 'r1', 'video.bin'), 'utf8')).toBe('webm bytes');
  });
});

import { randomUUID } from 'node:crypto';
import { link, lstat, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BlobStore } from './blob-store.ts';
import { describeBlobStoreConformance } from './blob-store-conformance.ts';
import { checkKey, createFsBlobStore } from './fs-blob-store.ts';

let root: string;
let blobs: BlobStore;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'vidgenie-blobs-test-'));
  blobs = createFsBlobStore({ root });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const conformanceRoots: string[] = [];
afterAll(async () => {
  for (const dir of conformanceRoots) await rm(dir, { recursive: true, force: true });
});
describeBlobStoreConformance({
  name: 'fs',
  createStore: async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vidgenie-blobs-conformance-'));
    conformanceRoots.push(dir);
    return createFsBlobStore({ root: dir });
  },
  list: true,
  putFile: true,
  describe,
  it,
});

const bytes = (text: string) => new TextEncoder().encode(text);
async function* chunks(...parts: string[]): AsyncIterable<Uint8Array> {
  for (const part of parts) yield bytes(part);
}
async function collect(stream: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Uint8Array[] = [];
  for await (const part of stream) parts.push(part);
  return Buffer.concat(parts).toString('utf8');
}

describe('createFsBlobStore', () => {
  it('lists objects only: not their type sidecars, nor the temporary files of writes in progress', async () => {
    await blobs.put({ key: 'runs/r1/a.png', body: bytes('a'), mimeType: 'image/png' });
    await writeFile(join(root, 'runs', 'r1', `a.png.${randomUUID()}.tmp`), 'half written');
    const keys: string[] = [];
    for await (const key of blobs.list?.({ prefix: 'runs/r1/' }) ?? []) keys.push(key);
    expect(keys).toEqual(['runs/r1/a.png']);
  });

  it('round-trips bytes, with size and mime type', async () => {
    const info = await blobs.put({
      key: 'runs/r1/a.bin',
      body: bytes('hello'),
      mimeType: 'application/x-test',
    });
    expect(info).toEqual({ key: 'runs/r1/a.bin', bytes: 5, mimeType: 'application/x-test' });
    expect(Buffer.from(await blobs.getBytes({ key: 'runs/r1/a.bin' })).toString()).toBe('hello');
    expect(await blobs.stat({ key: 'runs/r1/a.bin' })).toEqual(info);
  });

  it('stores a stream and streams it back', async () => {
    const info = await blobs.put({
      key: 'v/clip.mp4',
      body: chunks('ab', 'cd', 'ef'),
      mimeType: 'video/mp4',
    });
    expect(info.bytes).toBe(6);
    expect(await collect(await blobs.getStream({ key: 'v/clip.mp4' }))).toBe('abcdef');
  });

  it('overwrites an object, its size and its type', async () => {
    await blobs.put({ key: 'k.txt', body: bytes('first version'), mimeType: 'text/plain' });
    await blobs.put({ key: 'k.txt', body: bytes('v2'), mimeType: 'text/markdown' });
    expect(Buffer.from(await blobs.getBytes({ key: 'k.txt' })).toString()).toBe('v2');
    expect(await blobs.stat({ key: 'k.txt' })).toEqual({ key: 'k.txt', bytes: 2, mimeType: 'text/markdown' });
  });

  it('leaves no temporary files and keeps in a sidecar only a type the extension does not imply', async () => {
    await blobs.put({ key: 'a/b.png', body: bytes('png'), mimeType: 'image/png' });
    await blobs.put({ key: 'a/c.png', body: bytes('apng'), mimeType: 'image/apng' });
    expect((await readdir(join(root, 'a'))).sort()).toEqual(['b.png', 'c.png', 'c.png.meta.json']);
    expect(JSON.parse(await readFile(join(root, 'a', 'c.png.meta.json'), 'utf8'))).toEqual({
      mimeType: 'image/apng',
    });
    expect((await blobs.stat({ key: 'a/b.png' }))?.mimeType).toBe('image/png');
    expect((await blobs.stat({ key: 'a/c.png' }))?.mimeType).toBe('image/apng');
  });

  it('drops a stale sidecar when an object is written again with the type its extension implies', async () => {
    await blobs.put({ key: 'a/d.png', body: bytes('apng'), mimeType: 'image/apng' });
    await blobs.put({ key: 'a/d.png', body: bytes('png'), mimeType: 'image/png' });
    expect(await readdir(join(root, 'a'))).toEqual(['d.png']);
    expect(await blobs.stat({ key: 'a/d.png' })).toEqual({ key: 'a/d.png', bytes: 3, mimeType: 'image/png' });
  });

  it('derives the type from the extension when the sidecar is missing', async () => {
    await writeFile(join(root, 'copied.mp4'), 'x');
    await writeFile(join(root, 'copied.unknown'), 'x');
    expect((await blobs.stat({ key: 'copied.mp4' }))?.mimeType).toBe('video/mp4');
    expect((await blobs.stat({ key: 'copied.unknown' }))?.mimeType).toBe('application/octet-stream');
  });

  it('rejects reads of missing keys and stats them as undefined', async () => {
    await expect(blobs.getBytes({ key: 'nope.png' })).rejects.toThrow(/No blob "nope.png"/);
    await expect(blobs.getStream({ key: 'nope.png' })).rejects.toThrow(/No blob "nope.png"/);
    await expect(blobs.localPath({ key: 'nope.png' })).rejects.toThrow(/No blob/);
    await expect(blobs.url({ key: 'nope.png' })).rejects.toThrow(/No blob/);
    expect(await blobs.stat({ key: 'nope.png' })).toBeUndefined();
  });

  it('deletes objects and their sidecar; deleting a missing key is fine', async () => {
    await blobs.put({ key: 'd/x.txt', body: bytes('x'), mimeType: 'text/markdown' });
    expect((await readdir(join(root, 'd'))).sort()).toEqual(['x.txt', 'x.txt.meta.json']);
    await blobs.delete({ key: 'd/x.txt' });
    expect(await blobs.stat({ key: 'd/x.txt' })).toBeUndefined();
    expect(await readdir(join(root, 'd'))).toEqual([]);
    await expect(blobs.delete({ key: 'd/x.txt' })).resolves.toBeUndefined();
  });

  it('gives the object its own path and a file URL', async () => {
    await blobs.put({ key: 'runs/r1/image.png', body: bytes('img'), mimeType: 'image/png' });
    const path = await blobs.localPath({ key: 'runs/r1/image.png' });
    expect(path).toBe(join(root, 'runs', 'r1', 'image.png'));
    expect(await readFile(path, 'utf8')).toBe('img');
    const url = await blobs.url({ key: 'runs/r1/image.png', expiresInSeconds: 60 });
    expect(url.startsWith('file://')).toBe(true);
    expect(fileURLToPath(url)).toBe(path);
  });

  it.each([
    ['../escape.txt', /"\.\." segment/],
    ['runs/../../escape.txt', /"\.\." segment/],
    ['/etc/passwd', /absolute path/],
    ['C:/windows.txt', /absolute path/],
    ['runs\\r1\\a.png', /backslash/],
    ['', /empty/],
    ['runs//a.png', /empty or "\." segment/],
    ['./a.png', /empty or "\." segment/],
    ['a.png.meta.json', /reserved/],
  ])('rejects the key %j', async (key, message) => {
    expect(() => checkKey(key)).toThrow(TypeError);
    expect(() => checkKey(key)).toThrow(message);
    await expect(blobs.put({ key, body: bytes('x'), mimeType: 'text/plain' })).rejects.toThrow(
      /Invalid blob key/,
    );
    await expect(blobs.getBytes({ key })).rejects.toThrow(/Invalid blob key/);
    await expect(blobs.delete({ key })).rejects.toThrow(/Invalid blob key/);
  });

  it('cleans up the temporary file when a stream fails', async () => {
    async function* failing(): AsyncIterable<Uint8Array> {
      yield bytes('partial');
      throw new Error('upload broke');
    }
    await expect(
      blobs.put({ key: 'f/broken.bin', body: failing(), mimeType: 'application/octet-stream' }),
    ).rejects.toThrow('upload broke');
    expect(await readdir(join(root, 'f'))).toEqual([]);
    expect(await blobs.stat({ key: 'f/broken.bin' })).toBeUndefined();
  });

  it('makes a folder again when it was removed after a put into it (a stream included)', async () => {
    await blobs.put({ key: 'runs/r1/a.png', body: bytes('x'), mimeType: 'image/png' });
    await rm(join(root, 'runs'), { recursive: true });
    expect(
      await blobs.put({ key: 'runs/r1/b.txt', body: chunks('he', 'llo'), mimeType: 'text/plain' }),
    ).toEqual({
      key: 'runs/r1/b.txt',
      bytes: 5,
      mimeType: 'text/plain',
    });
    expect(new TextDecoder().decode(await blobs.getBytes({ key: 'runs/r1/b.txt' }))).toBe('hello');
    await rm(join(root, 'runs'), { recursive: true });
    const text = 'héllo ✓'; // sizes count bytes, not characters
    expect((await blobs.put({ key: 'runs/r1/c.txt', body: bytes(text), mimeType: 'text/plain' })).bytes).toBe(
      10,
    );
    expect((await blobs.stat({ key: 'runs/r1/c.txt' }))?.bytes).toBe(10);
  });

  it('treats a folder as no object', async () => {
    await blobs.put({ key: 'runs/r1/a.png', body: bytes('x'), mimeType: 'image/png' });
    expect(await blobs.stat({ key: 'runs/r1' })).toBeUndefined();
    await expect(blobs.getStream({ key: 'runs/r1' })).rejects.toThrow(/No blob "runs\/r1"/);
    await expect(blobs.getBytes({ key: 'runs' })).rejects.toThrow(/No blob "runs"/);
  });
});

describe('createFsBlobStore putFile', () => {
  let outside: string;
  beforeEach(async () => {
    outside = await mkdtemp(join(tmpdir(), 'vidgenie-blobs-source-'));
  });
  afterEach(async () => {
    await rm(outside, { recursive: true, force: true });
  });
  const fileOf = async (name: string, text: string) => {
    const path = join(outside, name);
    await writeFile(path, text);
    return path;
  };

  it('renames a file on the same volume into place: the object is the same file, no byte copied', async () => {
    const path = await fileOf('clip.mp4', 'mp4 bytes');
    const { ino } = await stat(path);
    expect(await blobs.putFile?.({ key: 'runs/r1/video.mp4', path, mimeType: 'video/mp4' })).toEqual({
      key: 'runs/r1/video.mp4',
      bytes: 9,
      mimeType: 'video/mp4',
    });
    expect((await stat(join(root, 'runs', 'r1', 'video.mp4'))).ino).toBe(ino);
    expect(await readdir(outside)).toEqual([]);
    // The extension implies the type: no sidecar.
    expect(await readdir(join(root, 'runs', 'r1'))).toEqual(['video.mp4']);
  });

  it('copies a file that has other names (hard links) or is a symbolic link, so no one else can change the object', async () => {
    const path = await fileOf('clip.mp4', 'original');
    const other = join(outside, 'other-name.mp4');
    await link(path, other);
    await blobs.putFile?.({ key: 'runs/r1/a.mp4', path, mimeType: 'video/mp4' });
    await writeFile(other, 'changed through the other name');
    expect(await readFile(join(root, 'runs', 'r1', 'a.mp4'), 'utf8')).toBe('original');
    expect(await readdir(outside)).toEqual(['other-name.mp4']);

    const symlinkPath = join(outside, 'link.mp4');
    await symlink(other, symlinkPath);
    await blobs.putFile?.({ key: 'runs/r1/b.mp4', path: symlinkPath, mimeType: 'video/mp4' });
    const stored = join(root, 'runs', 'r1', 'b.mp4');
    expect((await lstat(stored)).isFile()).toBe(true);
    expect(await readFile(stored, 'utf8')).toBe('changed through the other name');
    // The link is gone; what it pointed to is not the store's to remove.
    expect(await readdir(outside)).toEqual(['other-name.mp4']);
  });

  it('makes the folder again when it was removed after a put into it', async () => {
    await blobs.put({ key: 'runs/r1/a.png', body: bytes('x'), mimeType: 'image/png' });
    await rm(join(root, 'runs'), { recursive: true });
    const path = await fileOf('clip.mp4', 'video');
    expect((await blobs.putFile?.({ key: 'runs/r1/b.mp4', path, mimeType: 'video/mp4' }))?.bytes).toBe(5);
    expect(await readFile(join(root, 'runs', 'r1', 'b.mp4'), 'utf8')).toBe('video');
  });

  it('refuses a folder or a missing file, saying which path', async () => {
    await expect(
      blobs.putFile?.({ key: 'runs/r1/a.mp4', path: outside, mimeType: 'video/mp4' }),
    ).rejects.toThrow(/is not a file: only files can be stored as "runs\/r1\/a\.mp4"/);
    await expect(
      blobs.putFile?.({ key: 'runs/r1/a.mp4', path: join(outside, 'nothing.mp4'), mimeType: 'video/mp4' }),
    ).rejects.toThrow(/No file at ".*nothing\.mp4" to store as "runs\/r1\/a\.mp4"/);
    expect(await blobs.stat({ key: 'runs/r1/a.mp4' })).toBeUndefined();
  });
});

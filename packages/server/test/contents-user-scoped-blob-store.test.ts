import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine } from '@vidgenie/engine';
import {
  type BlobStore,
  createFfmpegMediaTools,
  createFsBlobStore,
  createProviderRegistry,
  createShortVideoRegistry,
  localProviders,
  shortVideoTemplate,
} from '@vidgenie/nodes';
import { describeBlobStoreConformance } from '@vidgenie/nodes/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserScopedBlobStore } from '../src/contents/user-scoped-blob-store.ts';

let root: string;
let inner: BlobStore;
const owners = new Map<string, string>([['run_1', 'usr_A']]);
const bytes = (text: string) => new TextEncoder().encode(text);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vidgenie-user-scoped-'));
  inner = createFsBlobStore({ root });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const scoped = () => createUserScopedBlobStore({ blobs: inner, ownerOf: (runId) => owners.get(runId) });

// Conformance keys (`conformance-<uuid>/…`) are not run keys: they pass through unchanged.
describeBlobStoreConformance({
  name: 'user-scoped (pass-through keys)',
  createStore: scoped,
  putFile: true,
  describe,
  it,
});

describe('createUserScopedBlobStore', () => {
  it("stores a run's keys under its owner and returns the stored key", async () => {
    const store = scoped();
    const info = await store.put({ key: 'runs/run_1/image.png', body: bytes('png'), mimeType: 'image/png' });
    expect(info).toEqual({ key: 'users/usr_A/runs/run_1/image.png', bytes: 3, mimeType: 'image/png' });
    expect(await inner.stat({ key: 'users/usr_A/runs/run_1/image.png' })).toEqual(info);
    expect(await inner.stat({ key: 'runs/run_1/image.png' })).toBeUndefined();
    // The stored key (what downstream nodes read) passes through; the run key maps to it.
    for (const key of ['users/usr_A/runs/run_1/image.png', 'runs/run_1/image.png']) {
      expect(new TextDecoder().decode(await store.getBytes({ key }))).toBe('png');
      expect(await store.stat({ key })).toEqual(info);
      expect(
        (await store.localPath({ key })).endsWith(join('users', 'usr_A', 'runs', 'run_1', 'image.png')),
      ).toBe(true);
      expect(await store.url({ key, expiresInSeconds: 60 })).toMatch(
        /users\/usr_A\/runs\/run_1\/image\.png$/,
      );
    }
    const parts: Uint8Array[] = [];
    for await (const part of await store.getStream({ key: 'runs/run_1/image.png' })) parts.push(part);
    expect(Buffer.concat(parts).toString()).toBe('png');
    await store.delete({ key: 'runs/run_1/image.png' });
    expect(await inner.stat({ key: 'users/usr_A/runs/run_1/image.png' })).toBeUndefined();
  });

  it("moves a handed-over file under the run's owner, and has no putFile when the inner store has none", async () => {
    const folder = await mkdtemp(join(tmpdir(), 'vidgenie-user-scoped-file-'));
    try {
      const path = join(folder, 'clip.mp4');
      await writeFile(path, 'mp4 bytes');
      const info = await scoped().putFile?.({ key: 'runs/run_1/video.mp4', path, mimeType: 'video/mp4' });
      expect(info).toEqual({ key: 'users/usr_A/runs/run_1/video.mp4', bytes: 9, mimeType: 'video/mp4' });
      expect(
        new TextDecoder().decode(await inner.getBytes({ key: 'users/usr_A/runs/run_1/video.mp4' })),
      ).toBe('mp4 bytes');
      await expect(stat(path)).rejects.toThrow(/ENOENT/);
      const { putFile: _, ...withoutPutFile } = inner;
      expect(
        createUserScopedBlobStore({ blobs: withoutPutFile, ownerOf: () => 'usr_A' }).putFile,
      ).toBeUndefined();
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('passes through the keys of runs it does not know (a rerun reading its parent) and other keys', async () => {
    const store = scoped();
    const info = await store.put({ key: 'runs/run_other/a.txt', body: bytes('x'), mimeType: 'text/plain' });
    expect(info.key).toBe('runs/run_other/a.txt');
    expect(await inner.stat({ key: 'runs/run_other/a.txt' })).toEqual(info);
    expect((await store.put({ key: 'misc/b.txt', body: bytes('y'), mimeType: 'text/plain' })).key).toBe(
      'misc/b.txt',
    );
    // `runs` itself or a run folder with nothing under it is not a run key.
    expect((await store.put({ key: 'runs/c.txt', body: bytes('z'), mimeType: 'text/plain' })).key).toBe(
      'runs/c.txt',
    );
  });

  it('refuses an owner that is not a safe key segment, and invalid keys, with a rejection', async () => {
    const store = createUserScopedBlobStore({ blobs: inner, ownerOf: () => '../escape' });
    await expect(
      store.put({ key: 'runs/run_9/a.png', body: bytes('x'), mimeType: 'image/png' }),
    ).rejects.toThrow(TypeError);
    await expect(store.stat({ key: 'runs/run_9/a.png' })).rejects.toThrow(/not a valid key segment/);
    await expect(scoped().getBytes({ key: 'runs/run_1/../../x' })).rejects.toThrow(TypeError);
  });

  it('runs the short-video template with every node reading the keys it stored (per-user layout)', async () => {
    const store = createUserScopedBlobStore({ blobs: inner, ownerOf: () => 'usr_B' });
    const engine = createEngine({
      registry: createShortVideoRegistry({ providers: createProviderRegistry(localProviders()) }),
      services: { blobs: store, media: createFfmpegMediaTools() },
    });
    const outcome = await engine.run(shortVideoTemplate({ prompt: 'a fox', durationSeconds: 8 }));
    expect(outcome.status).toBe('completed');
    const output = outcome.outputs.output as {
      video: { key: string };
      thumbnail: { key: string };
      image: { key: string };
    };
    for (const ref of [output.video, output.thumbnail, output.image]) {
      expect(ref.key).toMatch(new RegExp(`^users/usr_B/runs/${outcome.runId}/`));
      expect(await inner.stat({ key: ref.key })).toBeDefined();
    }
  }, 60_000);
});

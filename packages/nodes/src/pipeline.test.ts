import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type RunEvent } from '@vidgenie/engine';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlobStore } from './blob/blob-store.ts';
import { createFsBlobStore } from './blob/fs-blob-store.ts';
import { createFfmpegMediaTools } from './media/ffmpeg-media-tools.ts';
import type { ImageRef, VideoRef } from './media/media-ref.ts';
import { createShortVideoRegistry } from './nodes/create-short-video-registry.ts';
import { createProviderRegistry } from './provider/provider-registry.ts';
import { localProviders } from './providers/local/local-providers.ts';
import { shortVideoTemplate } from './template/short-video-template.ts';

/** The output node's result. */
interface OutputResult {
  readonly video: VideoRef;
  readonly thumbnail: ImageRef;
  readonly image?: ImageRef;
  readonly prompt?: string;
  readonly original?: string;
  readonly durationSeconds: number;
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
}

const NODES = ['prompt', 'enhance', 'image', 'video', 'output'];
const media = createFfmpegMediaTools();
let root: string;
let blobs: BlobStore;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vidgenie-pipeline-test-'));
  blobs = createFsBlobStore({ root });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function runTemplate(durationSeconds: 8 | 15) {
  const engine = createEngine({
    registry: createShortVideoRegistry({ providers: createProviderRegistry(localProviders()) }),
    services: { blobs, media },
  });
  const events: RunEvent[] = [];
  const started = performance.now();
  const outcome = await engine.run(
    shortVideoTemplate({ prompt: 'a red fox in the snow at dawn', durationSeconds, imageSize: 'small' }),
    { onEvent: (event) => events.push(event) },
  );
  return { outcome, events, seconds: (performance.now() - started) / 1000 };
}

async function readPng(key: string): Promise<PNG> {
  return PNG.sync.read(Buffer.from(await blobs.getBytes({ key })));
}

describe('the short-video template on the local providers', () => {
  it('turns a prompt into an 8 s 720x1280 MP4 with a thumbnail, offline', async () => {
    const { outcome, events, seconds } = await runTemplate(8);
    console.info(`Pipeline 8 s: ${seconds.toFixed(2)} s`);
    if (outcome.status !== 'completed') throw new Error(`Run ${outcome.status}: ${JSON.stringify(outcome)}`);
    const result = outcome.outputs.output as OutputResult;

    // The video, read back from the file itself.
    const path = await blobs.localPath({ key: result.video.key });
    const probe = await media.probeVideo({ path });
    expect([probe.width, probe.height]).toEqual([720, 1280]);
    expect(Math.abs(probe.durationSeconds - 8)).toBeLessThanOrEqual(0.1);
    expect(result).toMatchObject({ width: 720, height: 1280 });
    expect(Math.abs(result.durationSeconds - 8)).toBeLessThanOrEqual(0.1);
    expect(result.video.mimeType).toBe('video/mp4');
    expect(result.bytes).toBe((await readFile(path)).length);
    expect(result.bytes).toBeGreaterThan(10_000);

    // The thumbnail and the image are real PNGs of the stated sizes.
    const thumbnail = await readPng(result.thumbnail.key);
    expect([thumbnail.width, thumbnail.height]).toEqual([720, 1280]);
    expect(result.thumbnail).toMatchObject({ mimeType: 'image/png', width: 720, height: 1280 });
    expect(result.image).toMatchObject({ mimeType: 'image/png', width: 288, height: 512 });
    const image = await readPng(result.image?.key ?? '');
    expect([image.width, image.height]).toEqual([288, 512]);

    // The prompts: the original and its enhancement.
    expect(result.original).toBe('a red fox in the snow at dawn');
    expect(result.prompt).toMatch(/^A red fox in the snow at dawn\. .*Vertical 9:16 framing/s);

    // Events for every node, ending with the run.
    for (const nodeId of NODES) {
      const types = events.filter((e) => 'nodeId' in e && e.nodeId === nodeId).map((e) => e.type);
      expect(types, nodeId).toContain('node.started');
      expect(types, nodeId).toContain('node.completed');
    }
    const progress = events.filter((e) => e.type === 'node.progress' && e.nodeId === 'video');
    expect(progress.length).toBeGreaterThan(2);
    expect(events.at(0)?.type).toBe('run.started');
    expect(events.at(-1)?.type).toBe('run.completed');
  });

  it('makes a 15 s video too', async () => {
    const { outcome, seconds } = await runTemplate(15);
    console.info(`Pipeline 15 s: ${seconds.toFixed(2)} s`);
    if (outcome.status !== 'completed') throw new Error(`Run ${outcome.status}: ${JSON.stringify(outcome)}`);
    const result = outcome.outputs.output as OutputResult;
    const probe = await media.probeVideo({ path: await blobs.localPath({ key: result.video.key }) });
    expect([probe.width, probe.height]).toEqual([720, 1280]);
    expect(Math.abs(probe.durationSeconds - 15)).toBeLessThanOrEqual(0.1);
    expect(Math.abs(result.durationSeconds - 15)).toBeLessThanOrEqual(0.1);
  });
});

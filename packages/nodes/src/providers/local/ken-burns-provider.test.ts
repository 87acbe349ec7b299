import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { provideTestContext } from '../../../test/provider-context.ts';
import { createFfmpegMediaTools } from '../../media/ffmpeg-media-tools.ts';
import { CREDIT_PRICES } from '../../provider/pricing.ts';
import type {
  AspectRatio,
  ImageResult,
  MotionIntensity,
  VideoDuration,
} from '../../provider/provider-types.ts';
import { kenBurnsFilter, kenBurnsProvider } from './ken-burns-provider.ts';
import { localImageProvider } from './local-image-provider.ts';

// Records the temp folders the provider makes, to check that an aborted render removes its own.
const madeFolders = vi.hoisted(() => [] as string[]);
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...actual,
    mkdtemp: async (prefix: string) => {
      const folder = await actual.mkdtemp(prefix);
      madeFolders.push(folder);
      return folder;
    },
  };
});

const media = createFfmpegMediaTools();
const state = { get: () => undefined, set: async () => {} };
const files: string[] = [];
let image: ImageResult;

beforeAll(async () => {
  image = await localImageProvider.generate(
    { prompt: 'a red fox in the snow at dawn', size: 'small', aspectRatio: '9:16' },
    provideTestContext(),
  );
});
afterAll(async () => {
  await Promise.all(files.map((file) => rm(file, { force: true })));
});

async function render(args: {
  durationSeconds?: VideoDuration;
  aspectRatio?: AspectRatio;
  motion?: MotionIntensity;
  signal?: AbortSignal;
}) {
  const context = provideTestContext(args.signal);
  const started = performance.now();
  const clip = await kenBurnsProvider.generate(
    {
      prompt: 'a red fox in the snow at dawn',
      image,
      durationSeconds: args.durationSeconds ?? 8,
      motion: args.motion ?? 'medium',
      aspectRatio: args.aspectRatio ?? '9:16',
      state,
    },
    context,
  );
  files.push(clip.path);
  return { clip, seconds: (performance.now() - started) / 1000, reports: context.reports };
}

/** ffmpeg processes this test process started that are still alive (not zombies). Linux only. */
async function liveFfmpegChildren(): Promise<number[]> {
  const pids = (await readdir('/proc').catch(() => [])).filter((name) => /^\d+$/.test(name));
  const live: number[] = [];
  for (const pid of pids) {
    const fields = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const match = /^\d+ \((.*)\) (\S) (\d+)/.exec(fields);
    if (match?.[1] === 'ffmpeg' && match[2] !== 'Z' && Number(match[3]) === process.pid)
      live.push(Number(pid));
  }
  return live;
}

describe('local-video (Ken Burns) provider', () => {
  it('is a local video provider with the product durations and the video prices', () => {
    expect(kenBurnsProvider).toMatchObject({ id: 'local-video', kind: 'video', local: true });
    expect(kenBurnsProvider.displayName).toBe('Ken Burns renderer (offline)');
    expect(kenBurnsProvider.key).toBeUndefined();
    expect(kenBurnsProvider.capabilities).toMatchObject({ durations: [8, 15, 30, 60], maxClipSeconds: 60 });
    for (const durationSeconds of [8, 15, 30, 60] as const) {
      expect(kenBurnsProvider.price({ durationSeconds })).toBe(CREDIT_PRICES.video[durationSeconds]);
    }
  });

  it('zooms faster and pans further with more motion', () => {
    const zoom = (motion: MotionIntensity) => {
      const filter = kenBurnsFilter({ width: 720, height: 1280, frames: 240, motion, seed: 0 });
      expect(filter).toContain(':d=240:s=720x1280:fps=30');
      expect(filter).toContain('scale=1440:2560');
      return Number(/zoompan=z='[\d.]+\+([\d.]+)\*/.exec(filter)?.[1]);
    };
    expect(zoom('low')).toBeLessThan(zoom('medium'));
    expect(zoom('medium')).toBeLessThan(zoom('high'));
  });

  it('renders an 8 s 720x1280 H.264 MP4 into the temp dir, with progress, leaving nothing else', async () => {
    madeFolders.length = 0;
    const { clip, seconds, reports } = await render({ durationSeconds: 8 });
    console.info(
      `Ken Burns 8 s 720x1280: ${seconds.toFixed(2)} s (${(seconds / 8).toFixed(3)} s per video second)`,
    );
    expect(clip).toMatchObject({ mimeType: 'video/mp4', width: 720, height: 1280, durationSeconds: 8 });
    expect(dirname(clip.path)).toBe(tmpdir());
    expect(basename(clip.path)).toMatch(/^vidgenie-.+\.mp4$/);
    expect(madeFolders).toEqual([clip.path.replace(/\.mp4$/, '')]);
    await expect(stat(madeFolders[0] ?? '')).rejects.toThrow(/ENOENT/); // the working folder is gone
    const probe = await media.probeVideo({ path: clip.path });
    expect(probe.width).toBe(720);
    expect(probe.height).toBe(1280);
    expect(Math.abs(probe.durationSeconds - 8)).toBeLessThanOrEqual(0.1);
    const header = (await readFile(clip.path)).subarray(0, 64).toString('latin1');
    expect(header).toContain('ftyp');
    expect(header).toContain('moov'); // +faststart: the index comes first
    expect(reports.at(-1)).toBe(1);
    expect(reports.length).toBeGreaterThan(2);
    expect([...reports].sort((a, b) => a - b)).toEqual(reports);
  });

  it.each([
    ['16:9', 1280, 720, 'high'],
    ['1:1', 1080, 1080, 'low'],
  ] as const)('renders %s at %ix%i', async (aspectRatio, width, height, motion) => {
    const { clip } = await render({ aspectRatio, motion });
    const probe = await media.probeVideo({ path: clip.path });
    expect({ ...probe, durationSeconds: Math.round(probe.durationSeconds * 10) / 10 }).toEqual({
      durationSeconds: 8,
      width,
      height,
    });
    const poster = await media.posterFrame({ path: clip.path });
    const png = PNG.sync.read(Buffer.from(poster.bytes));
    expect([png.width, png.height]).toEqual([width, height]);
  });

  it('kills ffmpeg quickly when aborted and removes its temp folder', async () => {
    const controller = new AbortController();
    let abortedAt = 0;
    madeFolders.length = 0;
    const run = kenBurnsProvider.generate(
      { prompt: 'abort me', image, durationSeconds: 60, motion: 'high', aspectRatio: '9:16', state },
      {
        ...provideTestContext(controller.signal),
        progress: (fraction) => {
          if (fraction > 0 && abortedAt === 0) {
            abortedAt = performance.now();
            controller.abort(new Error('user pressed stop'));
          }
        },
      },
    );
    await expect(run).rejects.toThrow('user pressed stop');
    const stopMs = performance.now() - abortedAt;
    console.info(`Ken Burns abort: rejected ${stopMs.toFixed(0)} ms after abort`);
    expect(abortedAt).toBeGreaterThan(0);
    expect(stopMs).toBeLessThan(500);
    let live = await liveFfmpegChildren();
    for (let i = 0; i < 20 && live.length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      live = await liveFfmpegChildren();
    }
    expect(live).toEqual([]);
    expect(madeFolders).toHaveLength(1);
    await expect(stat(madeFolders[0] ?? '')).rejects.toThrow(/ENOENT/);
  });

  it('does not start when already aborted', async () => {
    const signal = AbortSignal.abort(new Error('cancelled'));
    await expect(render({ signal })).rejects.toThrow('cancelled');
  });
});

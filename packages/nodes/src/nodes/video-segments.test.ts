import { describe, expect, it } from 'vitest';
import { createFfmpegMediaTools, pngSize } from '../media/ffmpeg-media-tools.ts';
import { defineProvider } from '../provider/define-provider.ts';
import type { ImageResult, VideoProvider } from '../provider/provider-types.ts';
import { kenBurnsProvider } from '../providers/local/ken-burns-provider.ts';
import { localImageProvider } from '../providers/local/local-image-provider.ts';
import { generateInSegments } from './video-segments.ts';

/** The Ken Burns renderer, limited to 8 s clips and recording what it was asked. */
function clippedProvider(calls: { image: ImageResult; durationSeconds: number }[]): VideoProvider {
  const inner = kenBurnsProvider;
  return defineProvider({
    ...inner,
    id: 'clipped-video',
    capabilities: { ...inner.capabilities, maxClipSeconds: 8 },
    async generate(request, ctx) {
      calls.push({ image: request.image, durationSeconds: request.durationSeconds });
      await request.state.set({ job: `job-${calls.length}` });
      return inner.generate(request, ctx);
    },
  });
}

describe('generateInSegments', () => {
  it('chains 8 s clips into an exact 15 s video, each clip starting from the previous last frame', async () => {
    const image = await localImageProvider.generate(
      { prompt: 'a lighthouse at dusk', size: 'small', aspectRatio: '9:16' },
      { config: {}, apiKey: undefined, signal: new AbortController().signal, progress: () => {} },
    );
    const calls: { image: ImageResult; durationSeconds: number }[] = [];
    let stored: unknown;
    const fractions: number[] = [];
    const media = createFfmpegMediaTools();
    const result = await generateInSegments({
      provider: clippedProvider(calls),
      request: {
        prompt: 'a lighthouse at dusk',
        image,
        durationSeconds: 15,
        motion: 'medium',
        aspectRatio: '9:16',
      },
      ctx: {
        config: {},
        apiKey: undefined,
        signal: new AbortController().signal,
        progress: (f) => fractions.push(f),
      },
      state: {
        get: () => stored,
        set: async (value) => {
          stored = value;
        },
      },
      media,
    });
    expect(calls.map((c) => c.durationSeconds)).toEqual([8, 8]);
    expect(calls[0]?.image).toBe(image);
    expect(pngSize(calls[1]!.image.bytes)).toEqual({ width: 720, height: 1280 });
    const probe = await media.probeVideo({ path: result.path });
    expect(Math.abs(probe.durationSeconds - 15)).toBeLessThanOrEqual(0.1);
    expect([probe.width, probe.height]).toEqual([720, 1280]);
    expect(stored).toEqual({ segments: [{ job: 'job-1' }, { job: 'job-2' }] });
    expect(Math.max(...fractions)).toBeLessThanOrEqual(1);
    expect(fractions.some((f) => f > 0.5)).toBe(true);
  });
  it('assembles 30 s from four 8 s clips, cut to the exact length', async () => {
    const image = await localImageProvider.generate(
      { prompt: 'waves on a beach at noon', size: 'small', aspectRatio: '9:16' },
      { config: {}, apiKey: undefined, signal: new AbortController().signal, progress: () => {} },
    );
    const calls: { image: ImageResult; durationSeconds: number }[] = [];
    let stored: unknown;
    const media = createFfmpegMediaTools();
    const result = await generateInSegments({
      provider: clippedProvider(calls),
      request: { prompt: 'waves', image, durationSeconds: 30, motion: 'low', aspectRatio: '9:16' },
      ctx: { config: {}, apiKey: undefined, signal: new AbortController().signal, progress: () => {} },
      state: {
        get: () => stored,
        set: async (value) => {
          stored = value;
        },
      },
      media,
    });
    expect(calls).toHaveLength(4);
    const probe = await media.probeVideo({ path: result.path });
    expect(Math.abs(probe.durationSeconds - 30)).toBeLessThanOrEqual(0.1);
    expect([probe.width, probe.height]).toEqual([720, 1280]);
  });
});

import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { provideTestContext } from '../../../test/provider-context.ts';
import { CREDIT_PRICES, type ImageSize } from '../../provider/pricing.ts';
import type { AspectRatio } from '../../provider/provider-types.ts';
import { imagePixelSize, localImageProvider } from './local-image-provider.ts';

const draw = (prompt: string, size: ImageSize = 'small', aspectRatio: AspectRatio = '9:16') =>
  localImageProvider.generate({ prompt, size, aspectRatio }, provideTestContext());

const EXPECTED: Record<ImageSize, Record<AspectRatio, [number, number]>> = {
  small: { '9:16': [288, 512], '1:1': [512, 512], '16:9': [512, 288] },
  medium: { '9:16': [576, 1024], '1:1': [1024, 1024], '16:9': [1024, 576] },
  large: { '9:16': [1152, 2048], '1:1': [2048, 2048], '16:9': [2048, 1152] },
};

describe('local-image provider', () => {
  it('is a local image provider with every size and ratio, at the image prices', () => {
    expect(localImageProvider).toMatchObject({ id: 'local-image', kind: 'image', local: true });
    expect(localImageProvider.displayName).toBe('Local renderer (offline)');
    expect(localImageProvider.key).toBeUndefined();
    expect(localImageProvider.capabilities.sizes).toEqual(['small', 'medium', 'large']);
    expect([...localImageProvider.capabilities.aspectRatios].sort()).toEqual(['16:9', '1:1', '9:16']);
    for (const size of ['small', 'medium', 'large'] as const) {
      expect(localImageProvider.price({ size })).toBe(CREDIT_PRICES.image[size]);
    }
  });

  it('maps sizes and ratios to even pixel sizes', () => {
    for (const [size, ratios] of Object.entries(EXPECTED)) {
      for (const [ratio, [width, height]] of Object.entries(ratios)) {
        expect(imagePixelSize(size as ImageSize, ratio as AspectRatio)).toEqual({ width, height });
      }
    }
  });

  for (const [size, ratios] of Object.entries(EXPECTED) as [
    ImageSize,
    Record<AspectRatio, [number, number]>,
  ][]) {
    for (const [ratio, [width, height]] of Object.entries(ratios) as [AspectRatio, [number, number]][]) {
      it(`draws a decodable ${width}x${height} PNG for ${size} ${ratio}`, async () => {
        const started = performance.now();
        const image = await draw('a red fox in the snow at dawn', size, ratio);
        const ms = performance.now() - started;
        expect(image).toMatchObject({ mimeType: 'image/png', width, height });
        const png = PNG.sync.read(Buffer.from(image.bytes));
        expect([png.width, png.height]).toEqual([width, height]);
        if (size === 'large') expect(ms).toBeLessThan(2_000);
      });
    }
  }

  it('is deterministic, and different prompts give different images', async () => {
    const a = await draw('a lighthouse by the sea at night');
    const again = await draw('a lighthouse by the sea at night');
    const b = await draw('a neon city street at night');
    const c = await draw('a lighthouse by the sea at night!');
    expect(Buffer.from(a.bytes).equals(Buffer.from(again.bytes))).toBe(true);
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(false);
    expect(Buffer.from(a.bytes).equals(Buffer.from(c.bytes))).toBe(false);
  });

  it('draws a real picture: a bright sky by day, a dark one at night, many colours', async () => {
    const pixels = async (prompt: string) => PNG.sync.read(Buffer.from((await draw(prompt)).bytes));
    /** Mean luminance of the top quarter (the sky, sun or moon included). */
    const skyLuminance = (png: PNG) => {
      let sum = 0;
      const end = png.width * Math.floor(png.height / 4) * 4;
      for (let i = 0; i < end; i += 4) {
        sum +=
          0.2126 * (png.data[i] ?? 0) + 0.7152 * (png.data[i + 1] ?? 0) + 0.0722 * (png.data[i + 2] ?? 0);
      }
      return sum / (end / 4);
    };
    const day = await pixels('green hills on a sunny day');
    const night = await pixels('green hills at night');
    expect(skyLuminance(day)).toBeGreaterThan(skyLuminance(night) + 60);
    const colours = new Set<number>();
    for (let i = 0; i < day.data.length; i += 4 * 97) {
      colours.add(((day.data[i] ?? 0) << 16) | ((day.data[i + 1] ?? 0) << 8) | (day.data[i + 2] ?? 0));
    }
    expect(colours.size).toBeGreaterThan(200);
  });

  it('reports progress up to 1 and honours abort between rows', async () => {
    const context = provideTestContext();
    await localImageProvider.generate({ prompt: 'dunes', size: 'small', aspectRatio: '1:1' }, context);
    expect(context.reports.length).toBeGreaterThan(5);
    expect(context.reports.at(-1)).toBe(1);
    expect([...context.reports].sort((x, y) => x - y)).toEqual(context.reports);

    const controller = new AbortController();
    const aborting = provideTestContext(controller.signal);
    const started = performance.now();
    const run = localImageProvider.generate(
      { prompt: 'dunes', size: 'large', aspectRatio: '1:1' },
      {
        ...aborting,
        progress: (fraction) => {
          if (fraction > 0.1) controller.abort(new Error('stopped'));
        },
      },
    );
    await expect(run).rejects.toThrow('stopped');
    expect(performance.now() - started).toBeLessThan(400);
  });
});

import { PNG } from 'pngjs';
import { z } from 'zod';
import { defineProvider } from '../../provider/define-provider.ts';
import { CREDIT_PRICES, IMAGE_SIZE_PIXELS, type ImageSize } from '../../provider/pricing.ts';
import type { AspectRatio } from '../../provider/provider-types.ts';
import { readScene } from './prompt-scene.ts';
import { renderLandscape } from './render-landscape.ts';

const RATIOS: Readonly<Record<AspectRatio, readonly [number, number]>> = {
  '9:16': [9, 16],
  '1:1': [1, 1],
  '16:9': [16, 9],
};

/**
 * The pixel size of an image: the longer side is `IMAGE_SIZE_PIXELS[size]`, the other follows the
 * aspect ratio, both rounded to even numbers (H.264 needs even sizes). 9:16 at medium is 576x1024.
 * @internal
 */
export function imagePixelSize(size: ImageSize, aspectRatio: AspectRatio): { width: number; height: number } {
  const long = IMAGE_SIZE_PIXELS[size];
  const [rw, rh] = RATIOS[aspectRatio];
  const even = (v: number) => Math.max(2, Math.round(v / 2) * 2);
  return rw >= rh
    ? { width: even(long), height: even((long * rh) / rw) }
    : { width: even((long * rw) / rh), height: even(long) };
}

/**
 * The offline image renderer: a procedural landscape PNG drawn in pure JavaScript (pngjs), no
 * model and no key. The prompt's keywords pick the time of day (dawn, day, sunset, night), the
 * setting (sea, city, forest, mountains, snow, desert, space, hills) and the weather; a hash of the
 * prompt seeds everything else, so a prompt always gives the same image and different prompts give
 * different ones. Every size and aspect ratio; honours `signal` between bands of rows and reports
 * progress. A 2048 px image takes well under 2 s.
 *
 * @example
 * ```ts
 * import { localProviders } from '@vidgenie/nodes';
 * const image = localProviders().find((p) => p.id === 'local-image');
 * if (image?.kind === 'image') {
 *   const png = await image.generate(
 *     { prompt: 'a lighthouse by the sea at night', size: 'medium', aspectRatio: '9:16' },
 *     { config: {}, apiKey: undefined, signal: new AbortController().signal, progress: () => {} },
 *   );
 *   console.log(png.mimeType, png.width, png.height); // image/png 576 1024
 * }
 * ```
 */
export const localImageProvider = defineProvider({
  id: 'local-image',
  displayName: 'Local renderer (offline)',
  kind: 'image',
  local: true,
  config: z.object({}),
  capabilities: { sizes: ['small', 'medium', 'large'], aspectRatios: ['9:16', '1:1', '16:9'] },
  price: ({ size }) => CREDIT_PRICES.image[size],
  async generate({ prompt, size, aspectRatio }, { signal, progress }) {
    const { width, height } = imagePixelSize(size, aspectRatio);
    progress(0, `Rendering ${width}x${height}`);
    const rgb = await renderLandscape({
      width,
      height,
      scene: readScene(prompt),
      signal,
      onProgress: (fraction) => progress(fraction * 0.9),
    });
    progress(0.9, 'Encoding PNG');
    const png = new PNG({ colorType: 2, inputColorType: 2, inputHasAlpha: false });
    png.width = width;
    png.height = height;
    png.data = rgb;
    // Sub filter and RLE deflate: fast, and compact on smooth gradients.
    const bytes = PNG.sync.write(png, {
      colorType: 2,
      inputColorType: 2,
      inputHasAlpha: false,
      filterType: 1,
      deflateLevel: 6,
    });
    signal.throwIfAborted();
    progress(1);
    return {
      bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      mimeType: 'image/png',
      width,
      height,
    };
  },
});

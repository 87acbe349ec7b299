import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREDIT_PRICES, type ImageSize } from '../../provider/pricing.ts';
import { ProviderRejectedError } from '../../provider/provider-errors.ts';
import type { AspectRatio, ProviderCallContext } from '../../provider/provider-types.ts';
import { OPENAI_FAKE_KEY, type OpenAiFake, startOpenAiFake } from '../../testing/fakes/openai-fake.ts';
import {
  createOpenAiImageProvider,
  DEFAULT_OPENAI_IMAGE_MODEL,
  openAiImageRequest,
  readPngSize,
} from './openai-image-provider.ts';

let fake: OpenAiFake;
let provider: ReturnType<typeof createOpenAiImageProvider>;

beforeAll(async () => {
  fake = await startOpenAiFake({ unsafeWords: ['forbidden'] });
  provider = createOpenAiImageProvider({ baseURL: fake.baseURL });
});
afterAll(async () => {
  await fake.close();
});

function context(
  options: Record<string, unknown> = {},
  signal = new AbortController().signal,
): ProviderCallContext<ReturnType<typeof provider.config.parse>> & { readonly reports: number[] } {
  const reports: number[] = [];
  return {
    config: provider.config.parse(options),
    apiKey: OPENAI_FAKE_KEY,
    signal,
    progress: (fraction) => reports.push(fraction),
    reports,
  };
}

/** The image request the fake received last. */
const lastImageRequest = () => fake.requests.filter((r) => r.route === 'images.generate').at(-1)?.body;

/** size → [ratio, OpenAI size, width, height]; quality follows the size. */
const MAPPING: readonly (readonly [ImageSize, AspectRatio, string, number, number, string])[] = [
  ['small', '9:16', '1024x1536', 1024, 1536, 'low'],
  ['small', '1:1', '1024x1024', 1024, 1024, 'low'],
  ['small', '16:9', '1536x1024', 1536, 1024, 'low'],
  ['medium', '9:16', '1024x1536', 1024, 1536, 'medium'],
  ['medium', '1:1', '1024x1024', 1024, 1024, 'medium'],
  ['medium', '16:9', '1536x1024', 1536, 1024, 'medium'],
  ['large', '9:16', '1024x1536', 1024, 1536, 'high'],
  ['large', '1:1', '1024x1024', 1024, 1024, 'high'],
  ['large', '16:9', '1536x1024', 1536, 1024, 'high'],
];

describe('openai-image provider', () => {
  it('is OpenAI’s image provider, on the “openai” key, at the image prices', () => {
    expect(provider).toMatchObject({
      id: 'openai-image',
      displayName: 'OpenAI Images',
      kind: 'image',
      local: false,
      key: { secret: 'openai', label: 'OpenAI key' },
      capabilities: { sizes: ['small', 'medium', 'large'], aspectRatios: ['9:16', '1:1', '16:9'] },
    });
    for (const size of ['small', 'medium', 'large'] as const) {
      expect(provider.price({ size })).toBe(CREDIT_PRICES.image[size]);
    }
    expect(provider.config.parse({})).toEqual({ model: DEFAULT_OPENAI_IMAGE_MODEL });
    expect(DEFAULT_OPENAI_IMAGE_MODEL).toBe('gpt-image-2');
    expect(() => provider.config.parse({ quality: 'hd' })).toThrow();
  });

  it('maps every size and ratio onto a GPT image size, the size choosing the quality', () => {
    for (const [size, ratio, openAiSize, , , quality] of MAPPING) {
      expect(openAiImageRequest(size, ratio)).toEqual({ size: openAiSize, quality });
    }
    expect(openAiImageRequest('small', '9:16', 'high')).toEqual({ size: '1024x1536', quality: 'high' });
  });

  it.each(MAPPING)(
    'draws %s %s as a %s PNG (%ix%i, %s quality)',
    async (size, aspectRatio, openAiSize, width, height, quality) => {
      const ctx = context();
      const image = await provider.generate({ prompt: 'a lighthouse at night', size, aspectRatio }, ctx);
      expect(image).toMatchObject({ mimeType: 'image/png', width, height });
      expect(image.bytes).toBeInstanceOf(Uint8Array);
      const png = PNG.sync.read(Buffer.from(image.bytes));
      expect([png.width, png.height]).toEqual([width, height]);
      expect(lastImageRequest()).toEqual({
        model: 'gpt-image-2',
        prompt: 'a lighthouse at night',
        n: 1,
        size: openAiSize,
        quality,
        output_format: 'png',
      });
      expect(ctx.reports.at(-1)).toBe(1);
    },
  );

  it('uses the configured model and quality', async () => {
    await provider.generate(
      { prompt: 'a fox', size: 'small', aspectRatio: '1:1' },
      context({ model: 'gpt-image-1.5', quality: 'auto' }),
    );
    expect(lastImageRequest()).toMatchObject({ model: 'gpt-image-1.5', quality: 'auto', size: '1024x1024' });
  });

  it('reads PNG sizes from the header, and nothing else', () => {
    const png = new PNG({ width: 3, height: 5 });
    const bytes = new Uint8Array(PNG.sync.write(png));
    expect(readPngSize(bytes)).toEqual({ width: 3, height: 5 });
    expect(readPngSize(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, ...new Array(40).fill(0)]))).toBeUndefined();
    expect(readPngSize(bytes.subarray(0, 20))).toBeUndefined();
  });

  it('fails with OpenAI’s reason, not retried, when the safety system refuses the prompt', async () => {
    const error = await provider
      .generate({ prompt: 'something forbidden', size: 'medium', aspectRatio: '9:16' }, context())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderRejectedError);
    expect(error).toMatchObject({
      failure: 'content_rejected',
      retryable: false,
      providerId: 'openai-image',
    });
    expect((error as Error).message).toMatch(
      /^OpenAI Images refused this request: Your request was rejected by the safety system\. .*safety_violations=\[violence\]\. Rephrase the prompt and try again\.$/,
    );
  });

  it('validates keys with GET /v1/models', async () => {
    const signal = new AbortController().signal;
    expect(await provider.validateKey!(OPENAI_FAKE_KEY, { signal })).toEqual({ valid: true });
    expect(await provider.validateKey!('sk-nope-nope-nope', { signal })).toEqual({
      valid: false,
      reason: 'OpenAI rejected this key.',
    });
  });
});

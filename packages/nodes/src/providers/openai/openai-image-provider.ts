import { z } from 'zod';
import { defineProvider } from '../../provider/define-provider.ts';
import { CREDIT_PRICES, type ImageSize } from '../../provider/pricing.ts';
import type { ProviderIdentity } from '../../provider/provider-errors.ts';
import type { AspectRatio, ImageProvider } from '../../provider/provider-types.ts';
import { mapOpenAiError, OpenAiShapeError } from './map-openai-error.ts';
import {
  createOpenAiClient,
  OPENAI_KEY,
  type OpenAiProviderOptions,
  validateOpenAiKey,
} from './openai-client.ts';

/**
 * The default image model: `gpt-image-2`, the newest GPT image model the `openai` SDK (6.49)
 * knows. `gpt-image-1` was retired in October 2026 and `gpt-image-1.5` / `gpt-image-1-mini` are
 * scheduled to shut down on 1 December 2026. Every GPT image model takes the three standard sizes
 * used here. It is configuration: change it with `options.model`.
 */
export const DEFAULT_OPENAI_IMAGE_MODEL = 'gpt-image-2';

/** A GPT image quality. */
export type OpenAiImageQuality = 'low' | 'medium' | 'high' | 'auto';

/** The standard sizes every GPT image model accepts. */
export type OpenAiImageSize = '1024x1024' | '1024x1536' | '1536x1024';

/**
 * Aspect ratio → GPT image size. GPT image models have no 9:16 or 16:9: the nearest are the 2:3
 * portrait (`1024x1536`) and the 3:2 landscape (`1536x1024`); the video step crops them to its
 * own frame.
 */
const SIZE_BY_RATIO: Readonly<Record<AspectRatio, OpenAiImageSize>> = {
  '9:16': '1024x1536',
  '1:1': '1024x1024',
  '16:9': '1536x1024',
};

/**
 * Product size → GPT image quality, when the config sets none. GPT image sizes do not follow the
 * product's 512 / 1024 / 2048 px, so the size buys quality instead: small → `low`, medium →
 * `medium`, large → `high` (OpenAI bills quality, as we bill size).
 */
const QUALITY_BY_SIZE: Readonly<Record<ImageSize, Exclude<OpenAiImageQuality, 'auto'>>> = {
  small: 'low',
  medium: 'medium',
  large: 'high',
};

/**
 * What to ask OpenAI for a product size and aspect ratio:
 *
 * | size   | 9:16      | 1:1       | 16:9      | quality (unless configured) |
 * |--------|-----------|-----------|-----------|-----------------------------|
 * | small  | 1024x1536 | 1024x1024 | 1536x1024 | low                         |
 * | medium | 1024x1536 | 1024x1024 | 1536x1024 | medium                      |
 * | large  | 1024x1536 | 1024x1024 | 1536x1024 | high                        |
 *
 * @example
 * ```ts
 * import { openAiImageRequest } from '@vidgenie/nodes';
 * openAiImageRequest('small', '9:16'); // { size: '1024x1536', quality: 'low' }
 * ```
 */
export function openAiImageRequest(
  size: ImageSize,
  aspectRatio: AspectRatio,
  quality?: OpenAiImageQuality,
): { readonly size: OpenAiImageSize; readonly quality: OpenAiImageQuality } {
  return { size: SIZE_BY_RATIO[aspectRatio], quality: quality ?? QUALITY_BY_SIZE[size] };
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * The width and height of a PNG, read from its IHDR chunk (the first chunk, right after the
 * signature); undefined when the bytes are not a PNG. @internal
 */
export function readPngSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  if (bytes.length < 24 || PNG_SIGNATURE.some((byte, i) => bytes[i] !== byte)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') return undefined;
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  return width > 0 && height > 0 ? { width, height } : undefined;
}

/** How long one image may take by default: GPT image at high quality can take two minutes. */
const DEFAULT_TIMEOUT_MS = 180_000;

/** The config of the OpenAI image provider (an image node's `options`). */
export const openAiImageConfig = z.object({
  /** The GPT image model id. */
  model: z.string().trim().min(1).default(DEFAULT_OPENAI_IMAGE_MODEL),
  /** The GPT image quality; unset, it follows the size (small → low, medium → medium, large → high). */
  quality: z.enum(['low', 'medium', 'high', 'auto']).optional(),
});

/** The part of an images response we read. GPT image models always answer in base64. */
const ImagesResponseShape = z.object({
  data: z.array(z.object({ b64_json: z.string().nullable().optional() })).min(1),
});

/**
 * Makes the OpenAI image provider (`openai-image`): one `POST /v1/images/generations` with a GPT
 * image model on the user's key (secret `openai`), as a PNG. Sizes and aspect ratios map onto the
 * sizes GPT image models accept, the product size choosing the quality (see
 * {@link openAiImageRequest}); the base64 answer is decoded and the width and height are read
 * from the PNG itself. Config: `model` (default {@link DEFAULT_OPENAI_IMAGE_MODEL}) and `quality`.
 * A prompt refused by OpenAI's safety system fails with OpenAI's reason and is not retried; the
 * key never appears in errors. Aborting `signal` aborts the request and rejects with its reason.
 *
 * @example
 * ```ts
 * import { createOpenAiImageProvider } from '@vidgenie/nodes';
 * const images = createOpenAiImageProvider();
 * const png = await images.generate(
 *   { prompt: 'a lighthouse at night', size: 'medium', aspectRatio: '9:16' },
 *   { config: images.config.parse({}), apiKey: process.env.OPENAI_KEY, signal: AbortSignal.timeout(180_000), progress: () => {} },
 * );
 * console.log(png.mimeType, png.width, png.height); // image/png 1024 1536
 * ```
 */
export function createOpenAiImageProvider(
  options: OpenAiProviderOptions = {},
): ImageProvider<typeof openAiImageConfig> {
  const identity: ProviderIdentity = {
    id: 'openai-image',
    displayName: 'OpenAI Images',
    keyLabel: OPENAI_KEY.label,
  };
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return defineProvider({
    id: identity.id,
    displayName: identity.displayName,
    kind: 'image',
    local: false,
    key: OPENAI_KEY,
    config: openAiImageConfig,
    capabilities: { sizes: ['small', 'medium', 'large'], aspectRatios: ['9:16', '1:1', '16:9'] },
    price: ({ size }) => CREDIT_PRICES.image[size],
    validateKey: (key, { signal }) =>
      validateOpenAiKey({ key, signal, provider: identity, baseURL: options.baseURL, timeoutMs }),
    async generate({ prompt, size, aspectRatio }, { config, apiKey, signal, progress }) {
      signal.throwIfAborted();
      try {
        const client = createOpenAiClient({
          apiKey,
          provider: identity,
          baseURL: options.baseURL,
          timeoutMs,
        });
        const request = openAiImageRequest(size, aspectRatio, config.quality);
        progress(0.05, `Generating ${request.size} (${request.quality} quality) with ${config.model}`);
        const raw: unknown = await client.images.generate(
          {
            model: config.model,
            prompt,
            n: 1,
            size: request.size,
            quality: request.quality,
            output_format: 'png',
          },
          { signal },
        );
        const parsed = ImagesResponseShape.safeParse(raw);
        const b64 = parsed.success ? parsed.data.data[0]?.b64_json?.replace(/\s+/g, '') : undefined;
        if (b64 === undefined || b64 === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) {
          throw new OpenAiShapeError('the answer has no base64 image');
        }
        progress(0.9, 'Decoding the image');
        const buffer = Buffer.from(b64, 'base64');
        const bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
        const dimensions = readPngSize(bytes);
        if (dimensions === undefined) throw new OpenAiShapeError('the image is not a PNG');
        progress(1);
        return { bytes, mimeType: 'image/png', ...dimensions };
      } catch (error) {
        throw mapOpenAiError(error, { provider: identity, apiKey, signal });
      }
    },
  });
}

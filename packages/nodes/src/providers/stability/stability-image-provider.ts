import { z } from 'zod';
import { defineProvider } from '../../provider/define-provider.ts';
import { CREDIT_PRICES } from '../../provider/pricing.ts';
import {
  type ProviderErrorArgs,
  type ProviderFailure,
  type ProviderIdentity,
  providerError,
  scrubSecret,
} from '../../provider/provider-errors.ts';
import type { ImageProvider, ImageResult, KeyValidation } from '../../provider/provider-types.ts';

/** Stability AI's API. */
export const STABILITY_BASE_URL = 'https://api.stability.ai';

/** How long one Stability call may take before it fails as `timeout` (images take 5–20 s). */
const DEFAULT_TIMEOUT_MS = 90_000;
const IDENTITY: ProviderIdentity = {
  id: 'stability-image',
  displayName: 'Stability AI',
  keyLabel: 'Stability AI key',
};
/** The longest provider reason kept in an error message. */
const MAX_REASON = 300;

/** Models served by their own endpoint; every other model id goes to `/generate/sd3` as `model`. */
const ENDPOINT_MODELS: Readonly<Record<string, string>> = {
  'stable-image-ultra': 'ultra',
  'stable-image-core': 'core',
};

/** The Stability provider's config (the image node's `options`). */
const stabilityConfig = z.object({
  /**
   * `stable-image-core` (default: fast, 3 Stability credits, ~1.5 MP), `stable-image-ultra`
   * (8 credits, ~1 MP) or an SD 3.5 model id sent to `/generate/sd3` (`sd3.5-large`,
   * `sd3.5-large-turbo`, `sd3.5-medium`...). Model ids retire: this is configuration.
   */
  model: z.string().min(1).default('stable-image-core'),
  /** What the image should not show (not every model uses it). */
  negativePrompt: z.string().max(10_000).optional(),
  /** A Stability style preset such as `cinematic` or `photographic` (Core only). */
  stylePreset: z.string().min(1).optional(),
  /** 0 lets Stability pick a random seed. */
  seed: z.number().int().min(0).max(4_294_967_294).default(0),
});

/** Options of {@link createStabilityImageProvider}. */
export interface StabilityImageProviderOptions {
  /** The API origin, e.g. a fake's URL. Default `https://api.stability.ai`. */
  readonly baseUrl?: string | undefined;
  /** Per call (request and download), in ms. Default 90 000. */
  readonly timeoutMs?: number;
}

/**
 * Stability AI's image models (Stable Image Core, Ultra and SD 3.5) through the v2beta REST API,
 * with plain `fetch` and `FormData` (Stability has no official Node SDK): a multipart
 * `POST /v2beta/stable-image/generate/{core|ultra|sd3}` with `Accept: image/*`, answered with the
 * PNG's bytes.
 *
 * **Sizes and aspect ratios.** The API takes only an `aspect_ratio` (9:16, 1:1 and 16:9 are sent
 * as is) and draws at its own resolution: about 1 megapixel (Ultra, SD 3.5: 768x1344, 1024x1024,
 * 1344x768) or 1.5 megapixels (Core). That is the product's `medium` size, so
 * `capabilities.sizes` is `['medium']`. A `small` or `large` request is not refused: it gets the
 * same native image (no resampling, no extra upscale call), and the result reports the real
 * width and height, read from the PNG header. Since every size gets a medium image, every size
 * is priced at the medium rate, `CREDIT_PRICES.image.medium`.
 *
 * **Errors.** 401 and 403 → `invalid_key`, except a 403 or 400 named `content_moderation` →
 * `content_rejected` with Stability's reason, as is a 200 whose `finish-reason` is
 * `CONTENT_FILTERED` (the image came back blurred). 402 `payment_required` → `quota_exhausted`;
 * 429 → `rate_limited` after `Retry-After`; 408 and timeouts → `timeout`; other 4xx →
 * `bad_request`; 5xx and network failures → `unavailable`; an answer that is not a PNG →
 * `malformed_response`. The caller's abort is rethrown as is. Reasons never contain the key.
 *
 * `validateKey` calls `GET /v1/user/balance`, Stability's cheapest authenticated call (free).
 *
 * @example
 * ```ts
 * import { createProviderRegistry, createStabilityImageProvider, localProviders } from '@vidgenie/nodes';
 * const providers = createProviderRegistry([...localProviders(), createStabilityImageProvider()]);
 * // In a graph: { type: 'image', config: { provider: 'stability-image', options: { model: 'stable-image-ultra' } } }
 * ```
 */
export function createStabilityImageProvider(
  options: StabilityImageProviderOptions = {},
): ImageProvider<typeof stabilityConfig> {
  const baseUrl = (options.baseUrl ?? STABILITY_BASE_URL).replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  return defineProvider({
    id: IDENTITY.id,
    displayName: IDENTITY.displayName,
    kind: 'image',
    local: false,
    key: { secret: 'stability', label: 'Stability AI key' },
    config: stabilityConfig,
    capabilities: { sizes: ['medium'], aspectRatios: ['9:16', '1:1', '16:9'] },
    price: () => CREDIT_PRICES.image.medium,

    async generate({ prompt, aspectRatio }, { config, apiKey, signal, progress }): Promise<ImageResult> {
      signal.throwIfAborted();
      if (apiKey === undefined || apiKey === '') {
        throw providerError({ provider: IDENTITY, failure: 'invalid_key', reason: 'no key was given' });
      }
      const endpoint = ENDPOINT_MODELS[config.model] ?? 'sd3';
      const form = new FormData();
      form.append('prompt', prompt);
      form.append('aspect_ratio', aspectRatio);
      form.append('output_format', 'png');
      if (endpoint === 'sd3') form.append('model', config.model);
      if (config.negativePrompt !== undefined && config.negativePrompt !== '') {
        form.append('negative_prompt', config.negativePrompt);
      }
      if (config.stylePreset !== undefined) form.append('style_preset', config.stylePreset);
      if (config.seed !== 0) form.append('seed', String(config.seed));

      progress(0, `Asking Stability AI (${config.model}) for a ${aspectRatio} image`);
      const response = await call(
        `${baseUrl}/v2beta/stable-image/generate/${endpoint}`,
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${apiKey}`,
            accept: 'image/*',
            'stability-client-id': 'vidgenie',
          },
          body: form,
        },
        { apiKey, signal, timeoutMs },
      );
      if (response.status !== 200) throw failureOf(response, apiKey);
      progress(0.9, 'Reading the image');

      const image = imageOf(response);
      if (image.finishReason === 'CONTENT_FILTERED') {
        throw providerError({
          provider: IDENTITY,
          failure: 'content_rejected',
          reason: 'its output filter blurred the image',
        });
      }
      const size = readPngSize(image.bytes);
      if (size === undefined) {
        throw providerError({
          provider: IDENTITY,
          failure: 'malformed_response',
          reason: `expected a PNG image, got ${response.contentType || 'no content type'} (${image.bytes.byteLength} bytes)`,
        });
      }
      progress(1);
      return { bytes: image.bytes, mimeType: 'image/png', width: size.width, height: size.height };
    },

    async validateKey(key, { signal }): Promise<KeyValidation> {
      if (key.trim() === '') return { valid: false, reason: 'The key is empty.' };
      const response = await call(
        `${baseUrl}/v1/user/balance`,
        { method: 'GET', headers: { authorization: `Bearer ${key}`, accept: 'application/json' } },
        { apiKey: key, signal, timeoutMs },
      );
      if (response.status === 200) return { valid: true };
      if (response.status === 401 || response.status === 403) {
        const reason = reasonOf(response, key);
        return {
          valid: false,
          reason: `Stability AI rejected this key (${response.status}${reason === '' ? '' : `: ${reason}`}).`,
        };
      }
      throw failureOf(response, key);
    },
  });
}

interface StabilityResponse {
  readonly status: number;
  readonly contentType: string;
  readonly headers: Headers;
  readonly body: Uint8Array;
}

/** One HTTP call with the caller's signal and a timeout; the body is read whole. */
async function call(
  url: string,
  init: RequestInit,
  ctx: { readonly apiKey: string; readonly signal: AbortSignal; readonly timeoutMs: number },
): Promise<StabilityResponse> {
  const timeout = AbortSignal.timeout(ctx.timeoutMs);
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.any([ctx.signal, timeout]) });
    const body = new Uint8Array(await response.arrayBuffer());
    return {
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      headers: response.headers,
      body,
    };
  } catch (error) {
    ctx.signal.throwIfAborted();
    if (timeout.aborted) {
      throw providerError({
        provider: IDENTITY,
        failure: 'timeout',
        reason: `no answer within ${Math.round(ctx.timeoutMs / 1000)} s`,
        cause: error,
      });
    }
    throw providerError({
      provider: IDENTITY,
      failure: 'unavailable',
      reason: clip(scrubSecret(networkReason(error), ctx.apiKey)),
      cause: error,
    });
  }
}

/** The image of a 200 answer: raw bytes (`Accept: image/*`) or, from a proxy, Stability's JSON form. */
function imageOf(response: StabilityResponse): { bytes: Uint8Array; finishReason: string | undefined } {
  if (!response.contentType.startsWith('application/json')) {
    return { bytes: response.body, finishReason: response.headers.get('finish-reason') ?? undefined };
  }
  let json: { image?: unknown; finish_reason?: unknown } | undefined;
  try {
    json = JSON.parse(new TextDecoder().decode(response.body)) as typeof json;
  } catch {
    json = undefined;
  }
  if (typeof json?.image !== 'string') {
    throw providerError({
      provider: IDENTITY,
      failure: 'malformed_response',
      reason: 'the JSON answer holds no image',
    });
  }
  return {
    bytes: new Uint8Array(Buffer.from(json.image, 'base64')),
    finishReason: typeof json.finish_reason === 'string' ? json.finish_reason : undefined,
  };
}

/** Maps a non-200 answer onto a provider error. */
function failureOf(response: StabilityResponse, apiKey: string): Error {
  const { status } = response;
  const { name } = errorBody(response);
  const reason = reasonOf(response, apiKey);
  const moderation = name === 'content_moderation';
  let failure: ProviderFailure;
  if (moderation && (status === 400 || status === 403 || status === 422)) failure = 'content_rejected';
  else if (status === 401 || status === 403) failure = 'invalid_key';
  else if (status === 402 || name === 'payment_required' || name === 'insufficient_balance') {
    failure = 'quota_exhausted';
  } else if (status === 429) failure = 'rate_limited';
  else if (status === 408) failure = 'timeout';
  else if (status >= 400 && status < 500) failure = 'bad_request';
  else if (status >= 500) failure = 'unavailable';
  else failure = 'malformed_response'; // 1xx/3xx, or another 2xx
  const args: ProviderErrorArgs = {
    provider: IDENTITY,
    failure,
    ...(failure === 'invalid_key' || reason === '' ? {} : { reason }),
    cause: new Error(
      `Stability AI answered HTTP ${status}${name === undefined ? '' : ` (${name})`}: ${reason}`,
    ),
  };
  if (failure === 'rate_limited') {
    const afterMs = retryAfterMs(response.headers.get('retry-after'));
    return providerError(afterMs === undefined ? args : { ...args, retryAfterMs: afterMs });
  }
  return providerError(args);
}

/** Stability's error body `{ id, name, errors: [...] }`, as far as it is one. */
function errorBody(response: StabilityResponse): { name?: string; errors: string[] } {
  try {
    const json = JSON.parse(new TextDecoder().decode(response.body)) as {
      name?: unknown;
      errors?: unknown;
      message?: unknown;
    };
    const errors = Array.isArray(json.errors)
      ? json.errors.filter((e): e is string => typeof e === 'string')
      : typeof json.message === 'string'
        ? [json.message]
        : [];
    return typeof json.name === 'string' ? { name: json.name, errors } : { errors };
  } catch {
    return { errors: [] };
  }
}

/** Stability's own words for a failure, without the key and kept short. */
function reasonOf(response: StabilityResponse, apiKey: string): string {
  const { errors } = errorBody(response);
  return clip(scrubSecret(errors.join('; ').trim(), apiKey));
}

function clip(text: string): string {
  return text.length > MAX_REASON ? `${text.slice(0, MAX_REASON - 1)}…` : text;
}

/** `Retry-After` in ms: seconds or an HTTP date; undefined when absent or unreadable. */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (typeof cause?.code === 'string') return `network error ${cause.code}`;
  if (typeof cause?.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

/**
 * The width and height in a PNG's IHDR chunk, or undefined when the bytes are not a PNG.
 * @internal
 */
export function readPngSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.byteLength < 24 || signature.some((b, i) => bytes[i] !== b)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Bytes 12-15 name the first chunk, which must be IHDR; width and height follow.
  if (String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') return undefined;
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  return width > 0 && height > 0 ? { width, height } : undefined;
}

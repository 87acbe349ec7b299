import {
  type AspectRatio,
  CREDIT_PRICES,
  defineProvider,
  IMAGE_SIZE_PIXELS,
  type ImageProvider,
  type ImageSize,
  type KeyValidation,
  type ProviderIdentity,
  providerError,
} from '@vidgenie/nodes';
import { z } from 'zod';
import {
  type AcmeErrorBody,
  AcmeHttpError,
  AcmeShapeError,
  acmeFailure,
  mapAcmeError,
} from './acme-errors.ts';

/** The Acme Images API. */
export const ACME_BASE_URL = 'https://api.acme-images.example';
/** The default Acme model: configuration, not a constant in code. */
export const ACME_DEFAULT_MODEL = 'acme-render-2';
const DEFAULT_TIMEOUT_MS = 120_000;
const VALIDATE_TIMEOUT_MS = 15_000;

/** Options of {@link createAcmeImageProvider}. */
export interface AcmeImageProviderOptions {
  /** The API's base URL, without `/v1`. Default {@link ACME_BASE_URL}. */
  readonly baseURL?: string;
  /** How long one render may take, in ms. */
  readonly timeoutMs?: number;
}

/** The provider's config (an image node's `options`). */
export const acmeImageConfig = z.object({
  /** The Acme model id. */
  model: z.string().trim().min(1).default(ACME_DEFAULT_MODEL),
  /** Acme's style preset. */
  style: z.enum(['photo', 'illustration']).default('photo'),
});

/** The pixel size Acme renders for a product size and aspect ratio (even sides, long side per size). */
export function acmePixelSize(size: ImageSize, aspectRatio: AspectRatio): { width: number; height: number } {
  const long = IMAGE_SIZE_PIXELS[size];
  const short = Math.round((long * 9) / 16 / 2) * 2;
  if (aspectRatio === '9:16') return { width: short, height: long };
  if (aspectRatio === '16:9') return { width: long, height: short };
  return { width: long, height: long };
}

/** What `POST /v1/render` answers. */
const RenderResponse = z.object({
  image: z.object({
    base64: z.string().min(1),
    mime_type: z.enum(['image/png']),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
  }),
});

async function readError(response: Response): Promise<AcmeHttpError> {
  const body = (await response.json().catch(() => undefined)) as AcmeErrorBody | undefined;
  const retryAfter = Number(response.headers.get('retry-after') ?? Number.NaN);
  return new AcmeHttpError(response.status, body, Number.isFinite(retryAfter) ? retryAfter : undefined);
}

/**
 * Makes the Acme Images provider (`acme-image`): one `POST /v1/render` with the user's key as a
 * Bearer token, answered with a base64 PNG; `GET /v1/me` checks a key. Failures become provider
 * errors (a refused key is not retried, a 429 waits for Acme's Retry-After...), never showing the key.
 */
export function createAcmeImageProvider(
  options: AcmeImageProviderOptions = {},
): ImageProvider<typeof acmeImageConfig> {
  const baseURL = (options.baseURL ?? ACME_BASE_URL).replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const identity: ProviderIdentity = {
    id: 'acme-image',
    displayName: 'Acme Images',
    keyLabel: 'Acme Images key',
  };

  async function validateKey(
    key: string,
    { signal }: { readonly signal: AbortSignal },
  ): Promise<KeyValidation> {
    signal.throwIfAborted();
    if (key.trim() === '') return { valid: false, reason: 'Enter an Acme Images key.' };
    try {
      const response = await fetch(`${baseURL}/v1/me`, {
        headers: { authorization: `Bearer ${key}` },
        signal: AbortSignal.any([signal, AbortSignal.timeout(VALIDATE_TIMEOUT_MS)]),
      });
      if (response.ok) return { valid: true };
      const failure = acmeFailure(response.status, undefined);
      await response.body?.cancel();
      if (failure === 'invalid_key') return { valid: false, reason: 'Acme Images rejected this key.' };
      if (failure === 'quota_exhausted')
        return { valid: false, reason: 'Acme Images accepted this key, but the account has no credit left.' };
      return {
        valid: false,
        reason: `Acme Images could not check the key right now (HTTP ${response.status}): try again later.`,
      };
    } catch (error) {
      if (signal.aborted) throw signal.reason ?? error;
      return { valid: false, reason: 'Could not reach Acme Images to check the key: try again.' };
    }
  }

  return defineProvider({
    id: identity.id,
    displayName: identity.displayName,
    kind: 'image',
    local: false,
    key: { secret: 'acme', label: 'Acme Images key' },
    config: acmeImageConfig,
    capabilities: { sizes: ['small', 'medium', 'large'], aspectRatios: ['9:16', '1:1', '16:9'] },
    price: ({ size }) => CREDIT_PRICES.image[size],
    validateKey,
    async generate({ prompt, size, aspectRatio }, { config, apiKey, signal, progress }) {
      signal.throwIfAborted();
      if (apiKey === undefined || apiKey.trim() === '') {
        throw providerError({ provider: identity, failure: 'invalid_key' });
      }
      const { width, height } = acmePixelSize(size, aspectRatio);
      try {
        progress(0.05, `Rendering ${width}x${height} with ${config.model}`);
        const response = await fetch(`${baseURL}/v1/render`, {
          method: 'POST',
          headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ prompt, model: config.model, style: config.style, width, height }),
          signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
        });
        if (!response.ok) throw await readError(response);
        const parsed = RenderResponse.safeParse(await response.json().catch(() => undefined));
        if (!parsed.success) throw new AcmeShapeError('the answer has no image');
        progress(0.9, 'Decoding the image');
        const { base64, mime_type, width: w, height: h } = parsed.data.image;
        const bytes = new Uint8Array(Buffer.from(base64, 'base64'));
        if (bytes.length === 0) throw new AcmeShapeError('the image is empty');
        progress(1);
        return { bytes, mimeType: mime_type, width: w, height: h };
      } catch (error) {
        throw mapAcmeError(error, { provider: identity, apiKey, signal });
      }
    },
  });
}

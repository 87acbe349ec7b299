import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CREDIT_PRICES } from '../../provider/pricing.ts';
import {
  ProviderRateLimitedError,
  ProviderRejectedError,
  ProviderUnavailableError,
} from '../../provider/provider-errors.ts';
import type { AspectRatio, ImageRequest, ProviderCallContext } from '../../provider/provider-types.ts';
import { type StabilityFake, startStabilityFake } from '../../testing/fakes/stability-fake.ts';
import { createStabilityImageProvider, readPngSize } from './stability-image-provider.ts';

let fake: StabilityFake;
let provider: ReturnType<typeof createStabilityImageProvider>;

beforeAll(async () => {
  fake = await startStabilityFake({ apiKey: 'sk-stab-SECRET-123' });
  provider = createStabilityImageProvider({ baseUrl: `${fake.url}/`, timeoutMs: 2_000 });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.credits = 1000;
});

type Options = Partial<Record<'model' | 'negativePrompt' | 'stylePreset', string>> & { seed?: number };
function context(
  options: Options = {},
  extra: { apiKey?: string | undefined; signal?: AbortSignal } = {},
): ProviderCallContext<ReturnType<typeof provider.config.parse>> & { reports: number[] } {
  const reports: number[] = [];
  return {
    config: provider.config.parse(options),
    apiKey: 'apiKey' in extra ? extra.apiKey : fake.apiKey,
    signal: extra.signal ?? new AbortController().signal,
    progress: (fraction) => reports.push(fraction),
    reports,
  };
}
const request = (over: Partial<ImageRequest> = {}): ImageRequest => ({
  prompt: 'a lighthouse on a cliff at dusk',
  size: 'medium',
  aspectRatio: '9:16',
  ...over,
});

/** Runs `action` and returns what it threw. */
async function failure(action: Promise<unknown>): Promise<Error> {
  try {
    await action;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('stability-image provider', () => {
  it('declares itself, its key, its config defaults and its capabilities', () => {
    expect(provider).toMatchObject({
      id: 'stability-image',
      displayName: 'Stability AI',
      kind: 'image',
      local: false,
      key: { secret: 'stability', label: 'Stability AI key' },
      capabilities: { sizes: ['medium'], aspectRatios: ['9:16', '1:1', '16:9'] },
    });
    expect(provider.config.parse({})).toEqual({ model: 'stable-image-core', seed: 0 });
    // Every size gets the native (medium) image, so every size costs the medium price.
    for (const size of ['small', 'medium', 'large'] as const) {
      expect(provider.price({ size })).toBe(CREDIT_PRICES.image.medium);
    }
    expect(Object.isFrozen(provider)).toBe(true);
  });

  it.each([
    ['9:16', 768, 1344],
    ['1:1', 1024, 1024],
    ['16:9', 1344, 768],
  ] as const)('draws %s at the resolution Stability returns, read from the PNG', async (ratio, w, h) => {
    const ctx = context();
    const image = await provider.generate(request({ aspectRatio: ratio as AspectRatio }), ctx);
    expect(image).toMatchObject({ mimeType: 'image/png', width: w, height: h });
    const png = PNG.sync.read(Buffer.from(image.bytes));
    expect([png.width, png.height]).toEqual([w, h]);
    expect(ctx.reports[0]).toBe(0);
    expect(ctx.reports.at(-1)).toBe(1);
    const sent = fake.requests.at(-1);
    expect(sent).toMatchObject({
      endpoint: 'core',
      accept: 'image/*',
      fields: { prompt: 'a lighthouse on a cliff at dusk', aspect_ratio: ratio, output_format: 'png' },
    });
    expect(sent?.contentType).toMatch(/^multipart\/form-data; boundary=/);
    expect(sent?.fields).not.toHaveProperty('model');
  });

  it('serves small and large at the native resolution too', async () => {
    for (const size of ['small', 'large'] as const) {
      const image = await provider.generate(request({ size, aspectRatio: '1:1' }), context());
      expect([image.width, image.height]).toEqual([1024, 1024]);
    }
  });

  it('sends the model to its endpoint, and the optional fields', async () => {
    await provider.generate(request(), context({ model: 'stable-image-ultra' }));
    expect(fake.requests.at(-1)?.endpoint).toBe('ultra');
    await provider.generate(
      request({ prompt: 'two lines\nof prompt' }),
      context({ model: 'sd3.5-large-turbo', negativePrompt: 'text, watermark', seed: 42 }),
    );
    expect(fake.requests.at(-1)).toMatchObject({
      endpoint: 'sd3',
      fields: { model: 'sd3.5-large-turbo', negative_prompt: 'text, watermark', seed: '42' },
    });
    expect(fake.requests.at(-1)?.fields.prompt).toMatch(/^two lines\r?\nof prompt$/);
    await provider.generate(request(), context({ stylePreset: 'cinematic' }));
    expect(fake.requests.at(-1)?.fields.style_preset).toBe('cinematic');
    expect(fake.credits).toBe(1000 - 8 - 4 - 3);
  });

  it('maps a bad key to invalid_key without echoing the key', async () => {
    const error = await failure(provider.generate(request(), context({}, { apiKey: 'sk-wrong-key-9999' })));
    expect(error).toBeInstanceOf(ProviderRejectedError);
    expect(error).toMatchObject({ failure: 'invalid_key', providerId: 'stability-image' });
    expect(error.message).toBe('Your Stability AI key was rejected: check it in Settings.');
    expect(JSON.stringify(error) + String(error.cause)).not.toContain('sk-wrong-key-9999');
    const missing = await failure(provider.generate(request(), context({}, { apiKey: undefined })));
    expect(missing).toMatchObject({ failure: 'invalid_key' });
  });

  it('maps content moderation (403 and 400) and a blurred result to content_rejected with the reason', async () => {
    const flagged = await failure(provider.generate(request({ prompt: 'something forbidden' }), context()));
    expect(flagged).toBeInstanceOf(ProviderRejectedError);
    expect(flagged).toMatchObject({ failure: 'content_rejected' });
    expect(flagged.message).toMatch(
      /^Stability AI refused this request: Your request was flagged by our content/,
    );

    fake.inject('generate', {
      kind: 'status',
      status: 400,
      body: { id: 'x', name: 'content_moderation', errors: ['Prompt flagged'] },
    });
    expect(await failure(provider.generate(request(), context()))).toMatchObject({
      failure: 'content_rejected',
      message: expect.stringContaining('Prompt flagged'),
    });

    const blurred = await failure(provider.generate(request({ prompt: 'a blurry-nsfw scene' }), context()));
    expect(blurred).toMatchObject({ failure: 'content_rejected' });
    expect(blurred.message).toMatch(/blurred/);
  });

  it('maps an empty balance (402 payment_required) to quota_exhausted', async () => {
    fake.credits = 1;
    const error = await failure(provider.generate(request(), context()));
    expect(error).toBeInstanceOf(ProviderRejectedError);
    expect(error).toMatchObject({ failure: 'quota_exhausted' });
    expect(error.message).toMatch(
      /^Your Stability AI account has no quota or credit left: You lack sufficient credits/,
    );
  });

  it('maps 429 to rate_limited with Retry-After, in seconds or as a date', async () => {
    fake.inject(
      'generate',
      {
        kind: 'status',
        status: 429,
        headers: { 'retry-after': '7' },
        body: { id: 'x', name: 'rate_limit_exceeded', errors: ['You have exceeded the rate limit'] },
      },
      {
        kind: 'status',
        status: 429,
        headers: { 'retry-after': new Date(Date.now() + 30_000).toUTCString() },
      },
      { kind: 'status', status: 429 },
    );
    const first = await failure(provider.generate(request(), context()));
    expect(first).toBeInstanceOf(ProviderRateLimitedError);
    expect(first).toMatchObject({ failure: 'rate_limited', afterMs: 7_000 });
    const second = (await failure(provider.generate(request(), context()))) as ProviderRateLimitedError;
    expect(second.afterMs).toBeGreaterThan(25_000);
    expect(second.afterMs).toBeLessThanOrEqual(30_000);
    expect(await failure(provider.generate(request(), context()))).toMatchObject({ afterMs: 10_000 });
  });

  it('maps other 4xx to bad_request with the reason, and 5xx to unavailable', async () => {
    fake.inject('generate', {
      kind: 'status',
      status: 413,
      body: { id: 'x', name: 'payload_too_large', errors: ['body: must be under 10 MiB'] },
    });
    const tooBig = await failure(provider.generate(request(), context()));
    expect(tooBig).toBeInstanceOf(ProviderRejectedError);
    expect(tooBig).toMatchObject({
      failure: 'bad_request',
      message: 'Stability AI rejected the request: body: must be under 10 MiB.',
    });
    // A real 400 from the fake: an unknown model on the sd3 endpoint.
    expect(await failure(provider.generate(request(), context({ model: 'sd9-imaginary' })))).toMatchObject({
      failure: 'bad_request',
      message: expect.stringContaining('model: unknown model'),
    });
    fake.inject('generate', { kind: 'status', status: 503, body: 'upstream down' });
    const down = await failure(provider.generate(request(), context()));
    expect(down).toBeInstanceOf(ProviderUnavailableError);
    expect(down).toMatchObject({ failure: 'unavailable' });
  });

  it('scrubs the key from reasons Stability sends back', async () => {
    fake.inject('generate', {
      kind: 'status',
      status: 400,
      body: { id: 'x', name: 'bad_request', errors: [`header echo: Bearer ${fake.apiKey}`] },
    });
    const error = await failure(provider.generate(request(), context()));
    expect(error.message).toContain('[redacted]');
    expect(error.message + String(error.cause)).not.toContain(fake.apiKey);
  });

  it('maps a non-PNG or unreadable answer to malformed_response, retryably', async () => {
    fake.inject('generate', { kind: 'malformed' }, { kind: 'status', status: 200, body: 'not an image' });
    for (let i = 0; i < 2; i++) {
      const error = await failure(provider.generate(request(), context()));
      expect(error).toBeInstanceOf(ProviderUnavailableError);
      expect(error).toMatchObject({ failure: 'malformed_response' });
    }
  });

  it('times out a hanging call, and rethrows the caller abort as is', async () => {
    const quick = createStabilityImageProvider({ baseUrl: fake.url, timeoutMs: 150 });
    fake.inject('generate', { kind: 'hang' });
    const late = await failure(quick.generate(request(), context()));
    expect(late).toBeInstanceOf(ProviderUnavailableError);
    expect(late).toMatchObject({ failure: 'timeout' });

    fake.inject('generate', { kind: 'hang' });
    const controller = new AbortController();
    const reason = new Error('run cancelled');
    setTimeout(() => controller.abort(reason), 50);
    expect(await failure(provider.generate(request(), context({}, { signal: controller.signal })))).toBe(
      reason,
    );
    const aborted = new AbortController();
    aborted.abort(reason);
    const before = fake.counts.get('generate');
    expect(await failure(provider.generate(request(), context({}, { signal: aborted.signal })))).toBe(reason);
    expect(fake.counts.get('generate')).toBe(before);
  });

  it('maps a refused connection to unavailable', async () => {
    // A port that was just free: nothing listens there.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const nowhere = createStabilityImageProvider({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 2_000 });
    const error = await failure(nowhere.generate(request(), context()));
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(error).toMatchObject({ failure: 'unavailable' });
    expect(error.message).toMatch(/ECONNREFUSED/);
  });

  it('reads an image sent as Stability JSON (a proxy may force it)', async () => {
    const png = new PNG({ width: 3, height: 5 });
    const bytes = PNG.sync.write(png);
    fake.inject('generate', {
      kind: 'status',
      status: 200,
      headers: { 'content-type': 'application/json; type=image/png' },
      body: { image: bytes.toString('base64'), finish_reason: 'SUCCESS', seed: 1 },
    });
    expect(await provider.generate(request(), context())).toMatchObject({ width: 3, height: 5 });
  });

  describe('validateKey', () => {
    const signal = new AbortController().signal;

    it('accepts a working key with the free balance call', async () => {
      const before = fake.counts.get('balance') ?? 0;
      expect(await provider.validateKey?.(fake.apiKey, { signal })).toEqual({ valid: true });
      expect(fake.counts.get('balance')).toBe(before + 1);
      expect(fake.log.at(-1)).toMatchObject({ method: 'GET', path: '/v1/user/balance' });
    });

    it('refuses a wrong or empty key with a reason, without echoing it', async () => {
      const result = await provider.validateKey?.('sk-not-the-key', { signal });
      expect(result).toEqual({
        valid: false,
        reason: 'Stability AI rejected this key (401: authorization: invalid or revoked API key).',
      });
      expect(await provider.validateKey?.('  ', { signal })).toEqual({
        valid: false,
        reason: 'The key is empty.',
      });
    });

    it('throws on outages instead of calling the key invalid', async () => {
      fake.inject('balance', { kind: 'status', status: 500 });
      expect(await failure(Promise.resolve(provider.validateKey?.(fake.apiKey, { signal })))).toMatchObject({
        failure: 'unavailable',
      });
    });
  });
});

describe('readPngSize', () => {
  it('reads IHDR and refuses what is not a PNG', () => {
    const bytes = PNG.sync.write(new PNG({ width: 17, height: 9 }));
    expect(readPngSize(new Uint8Array(bytes))).toEqual({ width: 17, height: 9 });
    expect(readPngSize(new Uint8Array(bytes.subarray(0, 20)))).toBeUndefined();
    expect(readPngSize(new TextEncoder().encode('GIF89a..........................'))).toBeUndefined();
    const jpeg = new Uint8Array(64);
    jpeg.set([0xff, 0xd8, 0xff]);
    expect(readPngSize(jpeg)).toBeUndefined();
  });
});

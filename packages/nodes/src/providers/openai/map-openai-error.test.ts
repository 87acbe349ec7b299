import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  BadRequestError,
  RateLimitError,
} from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_RATE_LIMIT_DELAY_MS,
  type ProviderFailure,
  ProviderRateLimitedError,
  ProviderRejectedError,
  ProviderUnavailableError,
} from '../../provider/provider-errors.ts';
import type { ProviderCallContext } from '../../provider/provider-types.ts';
import type { FakeFault } from '../../testing/fakes/fake-http-server.ts';
import { OPENAI_FAKE_KEY, type OpenAiFake, startOpenAiFake } from '../../testing/fakes/openai-fake.ts';
import { classifyOpenAiError, mapOpenAiError, OpenAiShapeError, retryAfterMs } from './map-openai-error.ts';
import { createOpenAiImageProvider } from './openai-image-provider.ts';
import { createOpenAiTextProvider } from './openai-text-provider.ts';

let fake: OpenAiFake;
let text: ReturnType<typeof createOpenAiTextProvider>;
let image: ReturnType<typeof createOpenAiImageProvider>;

beforeAll(async () => {
  fake = await startOpenAiFake();
  text = createOpenAiTextProvider({ baseURL: fake.baseURL });
  image = createOpenAiImageProvider({ baseURL: fake.baseURL });
});
afterAll(async () => {
  await fake.close();
});

function ctx<T>(
  config: T,
  signal = new AbortController().signal,
  apiKey: string | null = OPENAI_FAKE_KEY,
): ProviderCallContext<T> {
  return { config, apiKey: apiKey ?? undefined, signal, progress: () => {} };
}

/** Runs the text provider with faults queued on chat completions and returns what it threw. */
async function enhanceFailure(...faults: FakeFault[]): Promise<unknown> {
  fake.inject('chat.completions', ...faults);
  return text.generate({ prompt: 'a fox' }, ctx(text.config.parse({}))).then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error,
  );
}

/** Runs the image provider with faults queued on image generations and returns what it threw. */
async function imageFailure(...faults: FakeFault[]): Promise<unknown> {
  fake.inject('images.generate', ...faults);
  return image
    .generate({ prompt: 'a fox', size: 'small', aspectRatio: '1:1' }, ctx(image.config.parse({})))
    .then(
      () => {
        throw new Error('expected a failure');
      },
      (error: unknown) => error,
    );
}

const provider = { id: 'openai-text', displayName: 'OpenAI', keyLabel: 'OpenAI key' };

describe('OpenAI errors through the SDK and the providers', () => {
  it('401 → invalid_key, not retried, with the Settings message', async () => {
    const error = await enhanceFailure(fake.faults.invalidKey());
    expect(error).toBeInstanceOf(ProviderRejectedError);
    expect(error).toMatchObject({ failure: 'invalid_key', retryable: false, code: 'NON_RETRYABLE' });
    expect((error as Error).message).toBe('Your OpenAI key was rejected: check it in Settings.');
    // A real wrong key, through the fake's key check.
    const wrong = await text
      .generate({ prompt: 'a fox' }, ctx(text.config.parse({}), undefined, 'sk-wrong-000000000'))
      .catch((e: unknown) => e);
    expect((wrong as Error).message).toBe('Your OpenAI key was rejected: check it in Settings.');
    expect((wrong as Error).cause).toBeInstanceOf(Error);
  });

  it('403 → invalid_key', async () => {
    expect(await enhanceFailure(fake.faults.permissionDenied())).toMatchObject({
      failure: 'invalid_key',
      retryable: false,
    });
  });

  it('a missing key fails at once, without a request', async () => {
    const before = fake.counts.get('chat.completions') ?? 0;
    const error = await text
      .generate({ prompt: 'a fox' }, ctx(text.config.parse({}), undefined, null))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderRejectedError);
    expect((error as Error).message).toBe('Add your OpenAI key in Settings to use OpenAI.');
    expect(fake.counts.get('chat.completions') ?? 0).toBe(before);
  });

  it('429 insufficient_quota → quota_exhausted, not retried', async () => {
    const error = await enhanceFailure(fake.faults.insufficientQuota());
    expect(error).toBeInstanceOf(ProviderRejectedError);
    expect(error).toMatchObject({ failure: 'quota_exhausted', retryable: false });
    expect((error as Error).message).toBe(
      'Your OpenAI account has no quota or credit left. Check your plan and billing with OpenAI.',
    );
  });

  it('429 → rate_limited, retried after retry-after-ms, else retry-after, else the default', async () => {
    const seconds = await enhanceFailure(fake.faults.rateLimited({ retryAfterSeconds: 2 }));
    expect(seconds).toBeInstanceOf(ProviderRateLimitedError);
    expect(seconds).toMatchObject({
      failure: 'rate_limited',
      retryable: true,
      code: 'RETRY_AFTER',
      afterMs: 2_000,
    });
    expect((seconds as Error).message).toBe('OpenAI is limiting requests; retrying in 2 s.');
    expect(
      await enhanceFailure(fake.faults.rateLimited({ retryAfterSeconds: 2, retryAfterMs: 1_500 })),
    ).toMatchObject({ afterMs: 1_500 });
    expect(await enhanceFailure(fake.faults.rateLimited({ retryAfterSeconds: 0 }))).toMatchObject({
      afterMs: 0,
    });
    const bare = await enhanceFailure({
      kind: 'status',
      status: 429,
      body: { error: { message: 'Slow down', type: 'requests', param: null, code: 'rate_limit_exceeded' } },
    });
    expect(bare).toMatchObject({ failure: 'rate_limited', afterMs: DEFAULT_RATE_LIMIT_DELAY_MS });
  });

  it('400 moderation_blocked / content_policy_violation → content_rejected with OpenAI’s reason', async () => {
    const blocked = await imageFailure(
      fake.faults.moderationBlocked({ message: 'Blocked: safety_violations=[sexual].' }),
    );
    expect(blocked).toBeInstanceOf(ProviderRejectedError);
    expect(blocked).toMatchObject({
      failure: 'content_rejected',
      retryable: false,
      providerId: 'openai-image',
    });
    expect((blocked as Error).message).toBe(
      'OpenAI Images refused this request: Blocked: safety_violations=[sexual]. Rephrase the prompt and try again.',
    );
    const policy = await imageFailure(fake.faults.contentPolicy());
    expect(policy).toMatchObject({ failure: 'content_rejected' });
    expect((policy as Error).message).toContain('Your request was rejected as a result of our safety system');
  });

  it('other 4xx → bad_request with OpenAI’s reason, not retried', async () => {
    const error = await enhanceFailure(
      fake.faults.badRequest({
        status: 404,
        message: 'The model `gpt-9` does not exist or you do not have access to it.',
        code: 'model_not_found',
      }),
    );
    expect(error).toBeInstanceOf(ProviderRejectedError);
    expect(error).toMatchObject({ failure: 'bad_request', retryable: false });
    expect((error as Error).message).toBe(
      'OpenAI rejected the request: The model `gpt-9` does not exist or you do not have access to it.',
    );
    // A real 400 from the fake: a temperature out of range.
    const real = await text
      .generate({ prompt: 'x' }, ctx({ ...text.config.parse({}), temperature: 5 }))
      .catch((e: unknown) => e);
    expect(real).toMatchObject({ failure: 'bad_request' });
    expect((real as Error).message).toMatch(/^OpenAI rejected the request: Invalid 'temperature'/);
  });

  it('5xx → unavailable, retried', async () => {
    for (const status of [500, 502, 503]) {
      const error = await enhanceFailure(fake.faults.serverError({ status }));
      expect(error).toBeInstanceOf(ProviderUnavailableError);
      expect(error).toMatchObject({ failure: 'unavailable', retryable: true, code: 'NODE_FAILED' });
      expect((error as Error).message).toBe(`OpenAI is unavailable right now: HTTP ${status}.`);
    }
  });

  it('malformed JSON or an unexpected shape → malformed_response, retried', async () => {
    const json = await enhanceFailure({ kind: 'malformed' });
    expect(json).toBeInstanceOf(ProviderUnavailableError);
    expect(json).toMatchObject({ failure: 'malformed_response', retryable: true });
    expect((json as Error).message).toBe('OpenAI sent an answer we could not read.');
    const empty = await enhanceFailure({ kind: 'status', status: 200, body: { object: 'chat.completion' } });
    expect((empty as Error).message).toBe(
      'OpenAI sent an answer we could not read: the answer has no choices.',
    );
    const blank = await enhanceFailure({
      kind: 'status',
      status: 200,
      body: { choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: ' ' } }] },
    });
    expect(blank).toMatchObject({ failure: 'malformed_response' });
    const notPng = await imageFailure({
      kind: 'status',
      status: 200,
      body: {
        created: 1,
        data: [{ b64_json: Buffer.from('GIF89a not a png at all, sorry').toString('base64') }],
      },
    });
    expect((notPng as Error).message).toBe(
      'OpenAI Images sent an answer we could not read: the image is not a PNG.',
    );
    const url = await imageFailure({
      kind: 'status',
      status: 200,
      body: { created: 1, data: [{ url: 'https://x' }] },
    });
    expect((url as Error).message).toBe(
      'OpenAI Images sent an answer we could not read: the answer has no base64 image.',
    );
  });

  it('a refusal or a content filter stop → content_rejected', async () => {
    const refusal = await enhanceFailure({
      kind: 'status',
      status: 200,
      body: {
        choices: [
          {
            index: 0,
            finish_reason: 'stop',
            message: { role: 'assistant', content: null, refusal: "I can't help." },
          },
        ],
      },
    });
    expect(refusal).toMatchObject({ failure: 'content_rejected', retryable: false });
    expect((refusal as Error).message).toBe(
      "OpenAI refused this request: I can't help. Rephrase the prompt and try again.",
    );
    const filtered = await enhanceFailure({
      kind: 'status',
      status: 200,
      body: {
        choices: [{ index: 0, finish_reason: 'content_filter', message: { role: 'assistant', content: '' } }],
      },
    });
    expect(filtered).toMatchObject({ failure: 'content_rejected' });
  });

  it('no connection → unavailable; no answer in time → timeout; both retried', async () => {
    const gone = await startOpenAiFake();
    const baseURL = gone.baseURL;
    await gone.close();
    const refused = await createOpenAiTextProvider({ baseURL })
      .generate({ prompt: 'x' }, ctx(text.config.parse({})))
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ProviderUnavailableError);
    expect(refused).toMatchObject({ failure: 'unavailable', retryable: true });
    expect((refused as Error).message).toBe(
      'OpenAI is unavailable right now: the connection to OpenAI failed.',
    );

    fake.inject('chat.completions', { kind: 'hang' });
    const started = performance.now();
    const slow = await createOpenAiTextProvider({ baseURL: fake.baseURL, timeoutMs: 50 })
      .generate({ prompt: 'x' }, ctx(text.config.parse({})))
      .catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(slow).toMatchObject({ failure: 'timeout', retryable: true });
    expect((slow as Error).message).toBe('OpenAI did not answer in time.');
  });

  it('a hanging call rejects promptly with the abort reason when the signal aborts', async () => {
    for (const [route, run] of [
      [
        'chat.completions',
        (signal: AbortSignal) => text.generate({ prompt: 'x' }, ctx(text.config.parse({}), signal)),
      ],
      [
        'images.generate',
        (signal: AbortSignal) =>
          image.generate(
            { prompt: 'x', size: 'small', aspectRatio: '9:16' },
            ctx(image.config.parse({}), signal),
          ),
      ],
    ] as const) {
      fake.inject(route, { kind: 'hang' });
      const controller = new AbortController();
      const reason = new Error('user pressed stop');
      const call = run(controller.signal);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const abortedAt = performance.now();
      controller.abort(reason);
      await expect(call).rejects.toBe(reason);
      expect(performance.now() - abortedAt).toBeLessThan(200);
    }
  });

  it('an already aborted signal sends nothing', async () => {
    const before = fake.counts.get('images.generate') ?? 0;
    const signal = AbortSignal.abort(new Error('cancelled'));
    await expect(
      image.generate(
        { prompt: 'x', size: 'small', aspectRatio: '9:16' },
        ctx(image.config.parse({}), signal),
      ),
    ).rejects.toThrow('cancelled');
    expect(fake.counts.get('images.generate') ?? 0).toBe(before);
  });
});

describe('mapOpenAiError / classifyOpenAiError', () => {
  const headers = (entries: Record<string, string> = {}) => new Headers(entries);

  it.each<[string, unknown, ProviderFailure]>([
    ['a connection timeout', new APIConnectionTimeoutError(), 'timeout'],
    ['a failed connection', new APIConnectionError({ message: 'Connection error.' }), 'unavailable'],
    ['a 408', makeStatus(408), 'timeout'],
    ['a 409', makeStatus(409), 'unavailable'],
    ['a 422', makeStatus(422), 'bad_request'],
    ['a 504', makeStatus(504), 'unavailable'],
    ['a JSON error', new SyntaxError('Unexpected end of JSON input'), 'malformed_response'],
    ['a shape error', new OpenAiShapeError('no choices'), 'malformed_response'],
    ['anything else', new TypeError('terminated'), 'unavailable'],
  ])('%s → %s', (_, error, failure) => {
    expect(classifyOpenAiError(error, undefined).failure).toBe(failure);
  });

  it('reads Retry-After as the SDK does: ms, then seconds, then an HTTP date', () => {
    expect(retryAfterMs(headers({ 'retry-after-ms': '250', 'retry-after': '9' }))).toBe(250);
    expect(retryAfterMs(headers({ 'retry-after': '1.5' }))).toBe(1_500);
    const now = Date.parse('2026-11-25T12:00:00Z');
    expect(retryAfterMs(headers({ 'retry-after': 'Wed, 25 Nov 2026 12:00:03 GMT' }), now)).toBe(3_000);
    expect(retryAfterMs(headers({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(retryAfterMs(headers({ 'retry-after-ms': '-5' }))).toBe(0);
    expect(retryAfterMs(undefined)).toBeUndefined();
    const error = new RateLimitError(
      429,
      { code: 'rate_limit_exceeded' },
      undefined,
      headers({ 'retry-after': '3' }),
    );
    expect(mapOpenAiError(error, { provider, apiKey: undefined })).toMatchObject({ afterMs: 3_000 });
  });

  it('passes errors already mapped and the SDK’s abort through; an aborted signal wins', () => {
    const mapped = new ProviderRejectedError('x', { failure: 'bad_request', providerId: 'openai-text' });
    expect(mapOpenAiError(mapped, { provider, apiKey: undefined })).toBe(mapped);
    const abort = new APIUserAbortError();
    expect(mapOpenAiError(abort, { provider, apiKey: undefined })).toBe(abort);
    const reason = new Error('stop');
    const signal = AbortSignal.abort(reason);
    expect(mapOpenAiError(new APIConnectionTimeoutError(), { provider, apiKey: undefined, signal })).toBe(
      reason,
    );
  });

  it('scrubs the key from reasons and from the cause', () => {
    const key = 'sk-scrub-me-123456';
    const error = new BadRequestError(
      400,
      { message: `Bad key ${key} in request.`, code: null },
      undefined,
      headers(),
    );
    const mapped = mapOpenAiError(error, { provider, apiKey: key }) as ProviderRejectedError;
    expect(mapped.message).toBe('OpenAI rejected the request: Bad key [redacted] in request.');
    const cause = mapped.cause as Error & { status?: number };
    expect(cause).not.toBe(error);
    expect(cause.message).not.toContain(key);
    expect(cause.stack).not.toContain(key);
    expect(cause).toMatchObject({ name: 'Error', status: 400 });
    const clean = new BadRequestError(400, { message: 'Bad size.' }, undefined, headers());
    expect((mapOpenAiError(clean, { provider, apiKey: key }) as Error).cause).toBe(clean);
  });
});

/** The SDK's own error for an HTTP status. */
function makeStatus(status: number) {
  return APIError.generate(status, { error: { message: `HTTP ${status}` } }, undefined, new Headers());
}

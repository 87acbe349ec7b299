import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineError, NonRetryableError } from '@vidgenie/engine';
import { PNG } from 'pngjs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ProviderRateLimitedError,
  ProviderRejectedError,
  ProviderUnavailableError,
} from '../../provider/provider-errors.ts';
import type { AspectRatio, VideoDuration } from '../../provider/provider-types.ts';
import { type GeminiFake, geminiFaults, startGeminiFake } from '../../testing/fakes/gemini-fake.ts';
import { durationMs, mapRpcStatus } from './gemini-errors.ts';
import { createVeoVideoProvider, type VeoVideoProviderOptions } from './veo-video-provider.ts';

const KEY = 'AIza-fake-test-key';
let tempDir: string;
let fake: GeminiFake;
const files: string[] = [];

const image = (() => {
  const png = new PNG({ width: 72, height: 128 });
  png.data.fill(200);
  return { bytes: new Uint8Array(PNG.sync.write(png)), mimeType: 'image/png', width: 72, height: 128 };
})();

function memoryState(initial?: unknown) {
  let value = initial;
  const sets: unknown[] = [];
  return {
    get: () => value,
    set: async (next: unknown) => {
      value = next;
      sets.push(next);
    },
    sets,
  };
}

function provider(options: VeoVideoProviderOptions = {}) {
  return createVeoVideoProvider({
    baseUrl: fake.url,
    pollIntervalMs: 2,
    maxPollIntervalMs: 5,
    expectedClipMs: 40,
    requestTimeoutMs: 5_000,
    tempDir,
    ...options,
  });
}

async function generate(args: {
  readonly provider?: ReturnType<typeof provider>;
  readonly config?: Record<string, unknown>;
  readonly state?: { get(): unknown; set(value: unknown): Promise<void> };
  readonly durationSeconds?: VideoDuration;
  readonly aspectRatio?: AspectRatio;
  readonly signal?: AbortSignal;
  readonly apiKey?: string;
  readonly onProgress?: (fraction: number, message?: string) => void;
}) {
  const reports: { fraction: number; message: string | undefined }[] = [];
  const p = args.provider ?? provider();
  const result = await p.generate(
    {
      prompt: 'a barista pours latte art',
      image,
      durationSeconds: args.durationSeconds ?? 8,
      motion: 'low',
      aspectRatio: args.aspectRatio ?? '9:16',
      state: args.state ?? memoryState(),
    },
    {
      config: p.config.parse(args.config ?? {}),
      apiKey: args.apiKey ?? KEY,
      signal: args.signal ?? new AbortController().signal,
      progress: (fraction, message) => {
        reports.push({ fraction, message });
        args.onProgress?.(fraction, message);
      },
    },
  );
  files.push(result.path);
  return { result, reports };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  tempDir = await mkdtemp(join(tmpdir(), 'vidgenie-veo-test-'));
});
afterAll(async () => {
  await rm(tempDir, { recursive: true, force: true });
});
beforeEach(async () => {
  fake = await startGeminiFake({ apiKey: KEY, pendingPolls: 3 });
});
afterEach(async () => {
  await fake.close();
  await Promise.all(files.splice(0).map((file) => rm(file, { force: true })));
});

describe('createVeoVideoProvider', () => {
  it('describes itself', () => {
    const p = provider();
    expect(p.id).toBe('veo-video');
    expect(p.displayName).toBe('Veo (Gemini API)');
    expect(p.key).toEqual({ secret: 'gemini', label: 'Gemini API key' });
    expect(p.config.parse({})).toEqual({ model: 'veo-3.1-generate-001', resolution: '720p' });
    expect(p.capabilities).toMatchObject({ aspectRatios: ['9:16', '16:9'], maxClipSeconds: 60 });
    expect(provider({ chainClips: false }).capabilities.maxClipSeconds).toBe(8);
    expect(p.price({ durationSeconds: 8 })).toBe(10);
  });

  it('animates the image: operation stored before polling, file downloaded with the key, a real MP4 back', async () => {
    const state = memoryState();
    let pollsWhenStored = -1;
    const { result, reports } = await generate({
      state: {
        get: state.get,
        set: async (value) => {
          pollsWhenStored = fake.counts.get('operations.get') ?? 0;
          await state.set(value);
        },
      },
    });
    expect(fake.submits).toBe(1);
    const [operation] = fake.operations;
    expect(operation).toMatchObject({
      model: 'veo-3.1-generate-001',
      aspectRatio: '9:16',
      resolution: '720p',
      durationSeconds: 8,
      imageMimeType: 'image/png',
      prompt: 'a barista pours latte art Subtle, slow camera movement.',
    });
    expect(state.sets).toEqual([{ operationNames: [operation?.name] }]);
    expect(pollsWhenStored).toBe(0);
    expect(fake.counts.get('files.download')).toBe(1);

    expect(result).toMatchObject({ mimeType: 'video/mp4', width: 180, height: 320 });
    expect(result.durationSeconds).toBeCloseTo(8, 0);
    expect((await stat(result.path)).size).toBeGreaterThan(1000);

    // Veo gives no progress: an estimate that rises, stays below 1, then 1 at the end.
    const pending = reports.filter((r) => r.message === 'Generating with Veo').map((r) => r.fraction);
    expect(pending.length).toBeGreaterThan(1);
    for (let i = 1; i < pending.length; i++) expect(pending[i]).toBeGreaterThan(pending[i - 1]!);
    expect(Math.max(...pending)).toBeLessThan(1);
    expect(reports.at(-1)?.fraction).toBe(1);
  });

  it('accepts an inline video (encodedVideo)', async () => {
    fake.queueOutcome({ kind: 'inline' });
    const { result } = await generate({});
    expect(fake.counts.get('files.download')).toBeUndefined();
    expect(result.durationSeconds).toBeCloseTo(8, 0);
  });

  it('chains 1080p clips for 15 s and trims to length', async () => {
    const { result } = await generate({
      durationSeconds: 15,
      config: { resolution: '1080p' },
      aspectRatio: '16:9',
    });
    expect(fake.operations.map((o) => [o.resolution, o.durationSeconds])).toEqual([
      ['1080p', 8],
      ['1080p', 8],
    ]);
    expect(result).toMatchObject({ width: 480, height: 270 });
    expect(result.durationSeconds).toBeGreaterThan(14.8);
    expect(result.durationSeconds).toBeLessThan(15.2);
  });

  it('refuses what Veo cannot make before paying', async () => {
    const square = await failure(generate({ aspectRatio: '1:1' }));
    expect(square).toBeInstanceOf(ProviderRejectedError);
    expect(square).toMatchObject({ failure: 'bad_request' });
    const long = await failure(generate({ provider: provider({ chainClips: false }), durationSeconds: 30 }));
    expect(long).toBeInstanceOf(NonRetryableError);
    expect(long.message).toMatch(/not supported yet/);
    expect(fake.counts.get('predictLongRunning')).toBeUndefined();
  });

  describe('maps google.rpc.Status errors', () => {
    const cases = [
      [
        '400 API_KEY_INVALID',
        geminiFaults.invalidKey(),
        ProviderRejectedError,
        'invalid_key',
        /Gemini API key was rejected/,
      ],
      [
        '403 PERMISSION_DENIED',
        geminiFaults.permissionDenied(),
        ProviderRejectedError,
        'invalid_key',
        /rejected/,
      ],
      [
        '429 daily quota',
        geminiFaults.dailyQuota(),
        ProviderRejectedError,
        'quota_exhausted',
        /no quota or credit/,
      ],
      [
        '400 INVALID_ARGUMENT',
        geminiFaults.invalidArgument('durationSeconds must be one of 4, 6, 8.'),
        ProviderRejectedError,
        'bad_request',
        /durationSeconds must be one of 4, 6, 8\./,
      ],
      ['500 INTERNAL', geminiFaults.internal(), ProviderUnavailableError, 'unavailable', /unavailable/],
      ['503 UNAVAILABLE', geminiFaults.unavailable(), ProviderUnavailableError, 'unavailable', /overloaded/],
    ] as const;
    for (const [name, fault, type, kind, message] of cases) {
      it(`${name} → ${kind}`, async () => {
        fake.inject('predictLongRunning', fault);
        const error = await failure(generate({}));
        expect(error).toBeInstanceOf(type);
        expect(error).toMatchObject({ failure: kind, providerId: 'veo-video' });
        expect(error.message).toMatch(message);
      });
    }

    it('429 with RetryInfo → rate_limited after retryDelay', async () => {
      fake.inject('predictLongRunning', geminiFaults.rateLimited('37s'));
      const error = await failure(generate({}));
      expect(error).toBeInstanceOf(ProviderRateLimitedError);
      expect((error as ProviderRateLimitedError).afterMs).toBe(37_000);
      expect(durationMs('1.5s')).toBe(1_500);
      expect(durationMs({ seconds: 2, nanos: 500_000_000 })).toBe(2_500);
    });

    it('an unknown model → bad_request naming it', async () => {
      const error = await failure(generate({ config: { model: 'veo-9.0-generate-001' } }));
      expect(error).toMatchObject({ failure: 'bad_request' });
      expect(error.message).toMatch(/veo-9\.0-generate-001 is not found/);
    });

    it('a hanging request → timeout', async () => {
      fake.inject('predictLongRunning', { kind: 'hang' });
      const error = await failure(generate({ provider: provider({ requestTimeoutMs: 100 }) }));
      expect(error).toMatchObject({ failure: 'timeout' });
    });

    it('safety filtering (raiMediaFilteredReasons) → content_rejected with Google’s reason', async () => {
      fake.queueOutcome({
        kind: 'filtered',
        reasons: ["We can't create videos of this content because it could violate our policies."],
      });
      const error = await failure(generate({}));
      expect(error).toBeInstanceOf(ProviderRejectedError);
      expect(error).toMatchObject({ failure: 'content_rejected' });
      expect(error.message).toMatch(/could violate our policies/);
    });

    it('a failed operation: INVALID_ARGUMENT about safety → content_rejected; INTERNAL → unavailable, retried anew', async () => {
      fake.queueOutcome({
        kind: 'error',
        code: 3,
        message: 'The input image violates the usage guidelines.',
      });
      expect(await failure(generate({}))).toMatchObject({ failure: 'content_rejected' });

      fake.queueOutcome({ kind: 'error', code: 13, message: 'Video generation failed. Please try again.' });
      const state = memoryState();
      const error = await failure(generate({ state }));
      expect(error).toBeInstanceOf(ProviderUnavailableError);
      expect(state.get()).toEqual({ operationNames: [] });
      await generate({ state });
      expect(fake.submits).toBe(3);
    });

    it('a transient poll failure is retried at the next tick', async () => {
      fake.inject('operations.get', geminiFaults.unavailable());
      const { result } = await generate({});
      expect(result.durationSeconds).toBeCloseTo(8, 0);
    });

    it('reads codes from HTTP statuses and rpc numbers alike', () => {
      const provider = { id: 'veo-video', displayName: 'Veo' };
      expect(mapRpcStatus({ httpStatus: 401 }, provider, undefined)).toMatchObject({
        failure: 'invalid_key',
      });
      expect(mapRpcStatus({ code: 16 }, provider, undefined)).toMatchObject({ failure: 'invalid_key' });
      expect(mapRpcStatus({ code: 4 }, provider, undefined)).toMatchObject({ failure: 'timeout' });
      expect(mapRpcStatus({ code: 8, details: [] }, provider, undefined)).toMatchObject({
        failure: 'rate_limited',
      });
      expect(mapRpcStatus({ httpStatus: 502 }, provider, undefined)).toMatchObject({
        failure: 'unavailable',
      });
    });
  });

  describe('abort, crash and resume', () => {
    it('an abort mid-poll rejects at once with the reason and polls no more', async () => {
      const controller = new AbortController();
      const reason = new Error('The creator cancelled the run.');
      const state = memoryState();
      const started = performance.now();
      const error = await failure(
        generate({
          // Waits of 5 s between polls: the abort lands mid-wait.
          provider: provider({ pollIntervalMs: 5_000 }),
          signal: controller.signal,
          state: {
            get: state.get,
            set: async (value) => {
              await state.set(value);
              setTimeout(() => controller.abort(reason), 20);
            },
          },
        }),
      );
      expect(error).toBe(reason);
      expect(performance.now() - started).toBeLessThan(2_000);
      const polls = fake.counts.get('operations.get');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(fake.counts.get('operations.get')).toBe(polls);
    });

    it('a crash after the operation name was stored: the resumed run polls the same operation, one submit', async () => {
      const stored = memoryState();
      let crashed!: () => void;
      const crash = new Promise<void>((resolve) => {
        crashed = resolve;
      });
      void generate({
        state: {
          get: stored.get,
          set: (value) => {
            void stored.set(value);
            crashed();
            return new Promise<void>(() => {});
          },
        },
      });
      await crash;
      expect(fake.submits).toBe(1);
      expect(fake.counts.get('operations.get')).toBeUndefined();

      const { result, reports } = await generate({ state: memoryState(stored.get()) });
      expect(fake.submits).toBe(1);
      expect(fake.operations[0]?.polls).toBeGreaterThan(0);
      expect(reports[0]?.message).toBe('Resuming the Veo operation');
      expect(result.durationSeconds).toBeCloseTo(8, 0);
    });

    it('an attempt timeout right after the name was stored: the retry polls the same operation', async () => {
      const controller = new AbortController();
      const state = memoryState();
      const timeout = new EngineError('TIMEOUT', 'Node "video" timed out.', { retryable: true });
      const error = await failure(
        generate({
          state: {
            get: state.get,
            set: async (value) => {
              await state.set(value);
              controller.abort(timeout);
            },
          },
          signal: controller.signal,
        }),
      );
      expect(error).toBe(timeout);
      await generate({ state });
      expect(fake.submits).toBe(1);
    });

    it('an operation Google no longer has is replaced by a new one', async () => {
      const state = memoryState({ operationNames: ['models/veo-3.1-generate-001/operations/expired0'] });
      await generate({ state });
      expect(fake.submits).toBe(1);
      expect(state.get()).toEqual({ operationNames: [fake.operations[0]?.name] });
    });
  });

  describe('validateKey', () => {
    it('valid, invalid with Google’s reason, and an outage thrown', async () => {
      const p = provider();
      const signal = new AbortController().signal;
      expect(await p.validateKey?.(KEY, { signal })).toEqual({ valid: true });
      expect(fake.log.at(-1)).toMatchObject({ method: 'GET', path: '/v1beta/models' });
      expect(await p.validateKey?.('AIza-wrong', { signal })).toEqual({
        valid: false,
        reason: 'Google rejected this key: API key not valid. Please pass a valid API key.',
      });
      fake.inject('models.list', geminiFaults.unavailable());
      await expect(p.validateKey?.(KEY, { signal })).rejects.toBeInstanceOf(ProviderUnavailableError);
    });
  });

  it('never puts the key in errors or progress messages', async () => {
    const canary = 'AIzaCANARY0123456789';
    await fake.close();
    fake = await startGeminiFake({ apiKey: canary, pendingPolls: 2 });
    const messages: string[] = [];
    const errors: Error[] = [];
    const run = async (inject: () => void) => {
      inject();
      try {
        const { reports } = await generate({ apiKey: canary });
        messages.push(...reports.map((r) => r.message ?? ''));
      } catch (error) {
        errors.push(error as Error);
      }
    };
    await run(() =>
      fake.inject('predictLongRunning', geminiFaults.invalidArgument(`Bad key=${canary} in request`)),
    );
    await run(() =>
      fake.inject('predictLongRunning', geminiFaults.permissionDenied(`Key ${canary} has no access`)),
    );
    await run(() => fake.queueOutcome({ kind: 'filtered', reasons: [`Blocked for ${canary}`] }));
    await run(() => fake.queueOutcome({ kind: 'error', code: 13, message: `Failed for ${canary}` }));
    await run(() => fake.inject('files.download', { kind: 'status', status: 500, body: `oops ${canary}` }));
    await run(() => {});
    expect(errors).toHaveLength(5);
    expect(messages.length).toBeGreaterThan(3);
    for (const error of errors) {
      const text = `${error.message} ${JSON.stringify(error)} ${JSON.stringify((error as EngineError).toJSON?.())}`;
      expect(text).not.toContain('CANARY');
    }
    for (const message of messages) expect(message).not.toContain('CANARY');
    const invalid = await provider().validateKey?.('AIzaCANARY_WRONG', {
      signal: new AbortController().signal,
    });
    expect(JSON.stringify(invalid)).not.toContain('CANARY');
  });
});

import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineError, NonRetryableError, StaleFenceError } from '@vidgenie/engine';
import { PNG } from 'pngjs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ProviderRateLimitedError,
  ProviderRejectedError,
  ProviderUnavailableError,
} from '../../provider/provider-errors.ts';
import type { AspectRatio, ImageResult, VideoDuration } from '../../provider/provider-types.ts';
import { type RunwayFake, runwayFaults, startRunwayFake } from '../../testing/fakes/runway-fake.ts';
import { createRunwayVideoProvider, type RunwayVideoProviderOptions } from './runway-video-provider.ts';

const KEY = 'key_0123456789abcdef';
let tempDir: string;
let fake: RunwayFake;
const files: string[] = [];

function pngImage(width: number, height: number, noise = false): ImageResult {
  const png = new PNG({ width, height });
  for (let i = 0; i < png.data.length; i += 4) {
    const p = i / 4;
    png.data[i] = noise ? Math.floor(Math.random() * 256) : (p * 7) % 256;
    png.data[i + 1] = noise ? Math.floor(Math.random() * 256) : (p * 3) % 256;
    png.data[i + 2] = noise ? Math.floor(Math.random() * 256) : 128;
    png.data[i + 3] = 255;
  }
  return { bytes: new Uint8Array(PNG.sync.write(png)), mimeType: 'image/png', width, height };
}
const image = pngImage(72, 128);

/** A durable state in memory, recording each value stored. */
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

function provider(options: RunwayVideoProviderOptions = {}) {
  return createRunwayVideoProvider({
    baseURL: fake.url,
    pollIntervalMs: 2,
    maxPollIntervalMs: 5,
    requestTimeoutMs: 5_000,
    tempDir,
    ...options,
  });
}

async function generate(args: {
  readonly provider?: ReturnType<typeof provider>;
  readonly state?: { get(): unknown; set(value: unknown): Promise<void> };
  readonly durationSeconds?: VideoDuration;
  readonly aspectRatio?: AspectRatio;
  readonly signal?: AbortSignal;
  readonly apiKey?: string;
  readonly image?: ImageResult;
  readonly prompt?: string;
  readonly onProgress?: (fraction: number, message?: string) => void;
}) {
  const reports: { fraction: number; message: string | undefined }[] = [];
  const p = args.provider ?? provider();
  const result = await p.generate(
    {
      prompt: args.prompt ?? 'a red fox in the snow at dawn',
      image: args.image ?? image,
      durationSeconds: args.durationSeconds ?? 8,
      motion: 'medium',
      aspectRatio: args.aspectRatio ?? '9:16',
      state: args.state ?? memoryState(),
    },
    {
      config: p.config.parse({}),
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
  tempDir = await mkdtemp(join(tmpdir(), 'vidgenie-runway-test-'));
});
afterAll(async () => {
  await rm(tempDir, { recursive: true, force: true });
});
beforeEach(async () => {
  fake = await startRunwayFake({ apiKey: KEY });
});
afterEach(async () => {
  await fake.close();
  await Promise.all(files.splice(0).map((file) => rm(file, { force: true })));
});

describe('createRunwayVideoProvider', () => {
  it('describes itself', () => {
    const p = provider();
    expect(p.id).toBe('runway-video');
    expect(p.displayName).toBe('Runway');
    expect(p.key).toEqual({ secret: 'runway', label: 'Runway key' });
    expect(p.config.parse({})).toEqual({ model: 'gen4_turbo' });
    expect(p.capabilities.maxClipSeconds).toBe(60);
    expect(p.capabilities.durations).toEqual([8, 15, 30, 60]);
    expect(provider({ chainClips: false }).capabilities.durations).toEqual([8]);
    expect(provider({ chainClips: false }).capabilities.maxClipSeconds).toBe(10);
    expect(p.price({ durationSeconds: 30 })).toBe(40);
  });

  it('animates the image: task stored before polling, progress from Runway, a real MP4 back', async () => {
    const state = memoryState();
    let pollsWhenStored = -1;
    const recording = {
      get: state.get,
      set: async (value: unknown) => {
        pollsWhenStored = fake.counts.get('tasks.retrieve') ?? 0;
        await state.set(value);
      },
    };
    const { result, reports } = await generate({ state: recording });

    expect(fake.submits).toBe(1);
    const [task] = fake.tasks;
    expect(task).toMatchObject({ model: 'gen4_turbo', ratio: '720:1280', duration: 8 });
    expect(task?.promptImageHead.startsWith('data:image/png;base64,')).toBe(true);
    expect(task?.promptText).toBe('a red fox in the snow at dawn Smooth, moderate camera movement.');
    expect(state.sets).toEqual([{ taskIds: [task?.id] }]);
    expect(pollsWhenStored).toBe(0);

    // The fake's clip is 1/4 of 720x1280: the provider reports what the file holds.
    expect(result).toMatchObject({ mimeType: 'video/mp4', width: 180, height: 320 });
    expect(result.durationSeconds).toBeCloseTo(8, 0);
    expect((await stat(result.path)).size).toBeGreaterThan(1000);

    const fractions = reports.map((r) => r.fraction);
    for (let i = 1; i < fractions.length; i++) expect(fractions[i]).toBeGreaterThanOrEqual(fractions[i - 1]!);
    expect(fractions.at(-1)).toBe(1);
    expect(fractions.filter((f) => f < 1).every((f) => f >= 0 && f < 1)).toBe(true);
    // Runway's own RUNNING progress (1/3, 2/3) came through.
    expect(
      reports.some((r) => r.message === 'Generating with Runway' && Math.abs(r.fraction - 0.333) < 0.01),
    ).toBe(true);
    expect(
      reports.some((r) => r.message === 'Generating with Runway' && Math.abs(r.fraction - 0.667) < 0.01),
    ).toBe(true);
  });

  it('maps the aspect ratio onto Runway’s ratios', async () => {
    const { result } = await generate({ aspectRatio: '1:1' });
    expect(fake.tasks[0]?.ratio).toBe('960:960');
    expect(result).toMatchObject({ width: 240, height: 240 });
  });

  it('chains clips for videos longer than 10 s, each from the last frame of the one before', async () => {
    const state = memoryState();
    const { result, reports } = await generate({ durationSeconds: 15, state });
    expect(fake.tasks.map((t) => t.duration)).toEqual([8, 7]);
    expect(fake.tasks[1]?.promptImageHead.startsWith('data:image/png;base64,')).toBe(true);
    expect(state.get()).toEqual({ taskIds: fake.tasks.map((t) => t.id) });
    expect(result.durationSeconds).toBeCloseTo(15, 0);
    expect(result).toMatchObject({ width: 180, height: 320 });
    expect(reports.some((r) => r.message?.startsWith('Clip 2 of 2') === true)).toBe(true);
  });

  it('refuses long videos without chaining, before paying for anything', async () => {
    const error = await failure(generate({ provider: provider({ chainClips: false }), durationSeconds: 15 }));
    expect(error).toBeInstanceOf(NonRetryableError);
    expect(error.message).toMatch(/not supported yet/);
    expect(fake.counts.get('image_to_video')).toBeUndefined();
  });

  it('re-encodes an image over Runway’s 5 MB data-URI limit as JPEG', async () => {
    const big = pngImage(1500, 1500, true);
    expect(big.bytes.length * (4 / 3)).toBeGreaterThan(5 * 1024 * 1024);
    await generate({ image: big });
    expect(fake.tasks[0]?.promptImageHead.startsWith('data:image/jpeg;base64,')).toBe(true);
  });

  describe('maps errors', () => {
    const cases = [
      ['401', runwayFaults.invalidKey(), ProviderRejectedError, 'invalid_key', /Runway key was rejected/],
      [
        '400',
        runwayFaults.badRequest('promptImage: Invalid data URI.'),
        ProviderRejectedError,
        'bad_request',
        /Invalid data URI/,
      ],
      [
        '400 credits',
        runwayFaults.notEnoughCredits(),
        ProviderRejectedError,
        'quota_exhausted',
        /enough credits/,
      ],
      ['503', runwayFaults.unavailable(503), ProviderUnavailableError, 'unavailable', /unavailable/],
      ['502', runwayFaults.unavailable(502), ProviderUnavailableError, 'unavailable', /unavailable/],
      [
        'malformed',
        { kind: 'malformed' } as const,
        ProviderUnavailableError,
        'malformed_response',
        /could not read/,
      ],
    ] as const;
    for (const [name, fault, type, kind, message] of cases) {
      it(`${name} → ${kind}`, async () => {
        fake.inject('image_to_video', fault);
        const error = await failure(generate({}));
        expect(error).toBeInstanceOf(type);
        expect(error).toMatchObject({ failure: kind, providerId: 'runway-video' });
        expect(error.message).toMatch(message);
      });
    }

    it('429 → rate_limited after Retry-After (seconds), or the default delay', async () => {
      fake.inject('image_to_video', runwayFaults.rateLimited(7), runwayFaults.rateLimited());
      const first = await failure(generate({}));
      expect(first).toBeInstanceOf(ProviderRateLimitedError);
      expect((first as ProviderRateLimitedError).afterMs).toBe(7_000);
      const second = await failure(generate({}));
      expect((second as ProviderRateLimitedError).afterMs).toBe(10_000);
      fake.inject('image_to_video', {
        kind: 'status',
        status: 429,
        body: { error: 'slow down' },
        headers: { 'retry-after-ms': '1500' },
      });
      expect(((await failure(generate({}))) as ProviderRateLimitedError).afterMs).toBe(1_500);
    });

    it('a hanging request → timeout', async () => {
      fake.inject('image_to_video', { kind: 'hang' });
      const error = await failure(generate({ provider: provider({ requestTimeoutMs: 100 }) }));
      expect(error).toBeInstanceOf(ProviderUnavailableError);
      expect(error).toMatchObject({ failure: 'timeout' });
    });

    it('a SAFETY failure → content_rejected with Runway’s reason', async () => {
      fake.queueOutcome({
        kind: 'fail',
        failureCode: 'SAFETY.INPUT.TEXT',
        failure: 'Prompt text was rejected by moderation.',
      });
      const error = await failure(generate({}));
      expect(error).toBeInstanceOf(ProviderRejectedError);
      expect(error).toMatchObject({ failure: 'content_rejected' });
      expect(error.message).toMatch(/Prompt text was rejected by moderation/);
    });

    it('an INTERNAL failure → unavailable, and the retry starts a new task', async () => {
      fake.queueOutcome({ kind: 'fail', failureCode: 'INTERNAL.BAD_OUTPUT.CODE01', failure: 'Bad output.' });
      const state = memoryState();
      const error = await failure(generate({ state }));
      expect(error).toBeInstanceOf(ProviderUnavailableError);
      expect(state.get()).toEqual({ taskIds: [] });
      const { result } = await generate({ state });
      expect(fake.submits).toBe(2);
      expect(result.durationSeconds).toBeCloseTo(8, 0);
    });

    it('an expired output URL → unavailable (the retry fetches a fresh URL from the same task)', async () => {
      fake.inject('output', { kind: 'status', status: 403, body: 'AccessDenied' });
      const state = memoryState();
      const error = await failure(generate({ state }));
      expect(error).toMatchObject({ failure: 'unavailable' });
      await generate({ state });
      expect(fake.submits).toBe(1);
    });

    it('an output over the size cap → bad_request', async () => {
      const error = await failure(generate({ provider: provider({ maxDownloadBytes: 1_000 }) }));
      expect(error).toBeInstanceOf(ProviderRejectedError);
      expect(error).toMatchObject({ failure: 'bad_request' });
    });

    it('a transient poll failure is retried at the next tick', async () => {
      fake.inject('tasks.retrieve', runwayFaults.unavailable(503), runwayFaults.rateLimited(0));
      const { result } = await generate({});
      expect(result.durationSeconds).toBeCloseTo(8, 0);
    });
  });

  describe('abort, crash and resume', () => {
    it('an abort mid-job rejects at once with the reason and cancels the task on Runway', async () => {
      const controller = new AbortController();
      const reason = new Error('The creator cancelled the run.');
      const started = performance.now();
      const error = await failure(
        generate({
          provider: provider({ pollIntervalMs: 50, maxPollIntervalMs: 50 }),
          signal: controller.signal,
          onProgress: (_, message) => {
            if (message === 'Generating with Runway') controller.abort(reason);
          },
        }),
      );
      expect(error).toBe(reason);
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(fake.counts.get('tasks.delete')).toBe(1);
      expect(fake.tasks[0]?.removal).toBe('cancelled');
    });

    it('after a cancel, a new attempt with the same state starts a new task', async () => {
      const controller = new AbortController();
      const state = memoryState();
      await failure(
        generate({
          state,
          signal: controller.signal,
          onProgress: (_, message) => {
            if (message === 'Generating with Runway') controller.abort();
          },
        }),
      );
      await generate({ state });
      expect(fake.submits).toBe(2);
      expect(state.get()).toEqual({ taskIds: [fake.tasks[1]?.id] });
    });

    it('an attempt timeout does not cancel: the retry polls the same task', async () => {
      const controller = new AbortController();
      const state = memoryState();
      const timeout = new EngineError('TIMEOUT', 'Node "video" timed out.', { retryable: true });
      const first = generate({
        state: {
          get: state.get,
          set: async (value) => {
            await state.set(value);
            controller.abort(timeout);
          },
        },
        signal: controller.signal,
      });
      expect(await failure(first)).toBe(timeout);
      expect(fake.counts.get('tasks.delete')).toBeUndefined();
      const { result } = await generate({ state });
      expect(fake.submits).toBe(1);
      expect(result.durationSeconds).toBeCloseTo(8, 0);
    });

    it('a crash after the task id was stored: the resumed run polls the same task, one submit', async () => {
      const stored = memoryState();
      let crashed!: () => void;
      const crash = new Promise<void>((resolve) => {
        crashed = resolve;
      });
      // The process "dies" the moment the checkpoint is durable: nothing after it ever runs.
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
      const polled = fake.counts.get('tasks.retrieve') ?? 0;
      expect(polled).toBe(0);

      const { result, reports } = await generate({ state: memoryState(stored.get()) });
      expect(fake.submits).toBe(1);
      expect(fake.counts.get('tasks.retrieve')).toBeGreaterThan(0);
      expect(fake.tasks[0]?.polls).toBeGreaterThan(0);
      expect(reports[0]?.message).toBe('Resuming the Runway task');
      expect(result).toMatchObject({ width: 180, height: 320 });
    });

    it('a stored task Runway no longer has is replaced by a new one', async () => {
      const state = memoryState({ taskIds: ['3f0c7b7e-0000-4000-8000-000000000000'] });
      await generate({ state });
      expect(fake.submits).toBe(1);
      expect(state.get()).toEqual({ taskIds: [fake.tasks[0]?.id] });
    });

    it('a task id that cannot be stored (stale fence) is cancelled, not orphaned', async () => {
      const stale = new StaleFenceError({ runId: 'r1', fence: 1, current: 2 });
      const error = await failure(
        generate({
          state: {
            get: () => undefined,
            set: async () => {
              throw stale;
            },
          },
        }),
      );
      expect(error).toBe(stale);
      expect(fake.counts.get('tasks.delete')).toBe(1);
    });

    it('leaves no working folder behind', async () => {
      const own = await mkdtemp(join(tempDir, 'own-'));
      fake.queueOutcome({ kind: 'fail', failureCode: 'SAFETY.OUTPUT.VIDEO', failure: 'Output rejected.' });
      await failure(generate({ provider: provider({ tempDir: own }) }));
      const { result } = await generate({ provider: provider({ tempDir: own }), durationSeconds: 15 });
      expect(await readdir(own)).toEqual([result.path.slice(own.length + 1)]);
    });
  });

  describe('validateKey', () => {
    it('valid, invalid with a reason, and an outage thrown', async () => {
      const p = provider();
      const signal = new AbortController().signal;
      expect(await p.validateKey?.(KEY, { signal })).toEqual({ valid: true });
      const invalid = await p.validateKey?.('sk-not-a-runway-key', { signal });
      expect(invalid).toEqual({
        valid: false,
        reason: 'Runway rejected this key. Runway keys start with "key_".',
      });
      expect(fake.log.at(-1)?.route).toBe('organization');
      fake.inject('organization', runwayFaults.unavailable(503));
      await expect(p.validateKey?.(KEY, { signal })).rejects.toBeInstanceOf(ProviderUnavailableError);
    });
  });

  it('never puts the key in errors or progress messages', async () => {
    const canary = 'key_CANARY0123456789';
    await fake.close();
    fake = await startRunwayFake({ apiKey: canary });
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
      fake.inject('image_to_video', runwayFaults.badRequest(`Invalid key ${canary} for model`)),
    );
    await run(() => fake.inject('image_to_video', runwayFaults.unavailable(500)));
    await run(() =>
      fake.queueOutcome({ kind: 'fail', failureCode: 'SAFETY.INPUT.TEXT', failure: `Bad ${canary}` }),
    );
    await run(() => fake.queueOutcome({ kind: 'fail', failureCode: 'INTERNAL', failure: `Oops ${canary}` }));
    await run(() => {});
    expect(errors).toHaveLength(4);
    expect(messages.length).toBeGreaterThan(3);
    for (const error of errors) {
      const text = `${error.message} ${JSON.stringify(error)} ${JSON.stringify((error as EngineError).toJSON?.())}`;
      expect(text).not.toContain(canary);
      expect(text).not.toContain('CANARY');
    }
    for (const message of messages) expect(message).not.toContain('CANARY');
    // The wrong-key error never echoes the key either.
    const wrong = await failure(generate({ apiKey: 'key_CANARY_WRONG_9876' }));
    expect(wrong.message).not.toContain('CANARY');
  });
});

import { describe, expect, it } from 'vitest';
import { planSegments } from '../../media/video-chain.ts';
import { estimateProgress, MAX_PENDING_PROGRESS, PollDeadlineError, pollDelay, pollJob } from './poll-job.ts';

const fast = { initialDelayMs: 1, maxDelayMs: 4, jitter: 0 } as const;

describe('pollDelay', () => {
  it('grows by the factor up to the cap, with jitter around it', () => {
    const plain = [0, 1, 2, 3, 4, 5, 6, 7].map((n) => pollDelay(n, { jitter: 0 }));
    expect(plain).toEqual([1000, 1500, 2250, 3375, 5063, 7594, 10000, 10000]);
    expect(pollDelay(0, { jitter: 0.2, random: () => 0 })).toBe(800);
    expect(pollDelay(0, { jitter: 0.2, random: () => 0.999999 })).toBe(1200);
    expect(pollDelay(10, { initialDelayMs: 5, maxDelayMs: 20, factor: 2, jitter: 0 })).toBe(20);
  });
});

describe('estimateProgress', () => {
  it('rises with elapsed time and never reaches 1', () => {
    const values = [0, 1, 10, 60, 120, 600, 10_000].map((s) => estimateProgress(s * 1000, 60_000));
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThan(values[i - 1]!);
    expect(values[0]).toBe(0);
    expect(values.at(-1)).toBeLessThan(1);
    expect(estimateProgress(60_000, 60_000)).toBeCloseTo(0.82, 2);
  });
});

describe('pollJob', () => {
  it('resolves with the value once the check is done, reporting the provider’s progress', async () => {
    const answers = [0.1, 0.5, 0.3, 1.5];
    const reports: [number, string | undefined][] = [];
    let looks = 0;
    const value = await pollJob(
      async () => {
        const progress = answers[looks++];
        return progress === undefined
          ? { done: true, value: 'ok' }
          : { done: false, progress, message: 'running' };
      },
      { ...fast, signal: new AbortController().signal, onProgress: (f, m) => reports.push([f, m]) },
    );
    expect(value).toBe('ok');
    expect(looks).toBe(5);
    // Never decreasing, never 1 before done.
    expect(reports.map(([f]) => f)).toEqual([0.1, 0.5, MAX_PENDING_PROGRESS]);
    expect(reports.every(([, m]) => m === 'running')).toBe(true);
  });

  it('estimates progress from elapsed time when the provider gives none', async () => {
    let clock = 0;
    const reports: number[] = [];
    let looks = 0;
    await pollJob(async () => (++looks > 6 ? { done: true, value: 1 } : { done: false }), {
      ...fast,
      signal: new AbortController().signal,
      expectedMs: 1_000,
      now: () => (clock += 400),
      onProgress: (f) => reports.push(f),
    });
    expect(reports.length).toBeGreaterThan(3);
    for (let i = 1; i < reports.length; i++) expect(reports[i]).toBeGreaterThan(reports[i - 1]!);
    expect(Math.max(...reports)).toBeLessThan(0.95);
  });

  it('waits between looks with growing delays', async () => {
    const times: number[] = [];
    await pollJob(
      async () => {
        times.push(performance.now());
        return times.length === 4 ? { done: true, value: null } : { done: false };
      },
      { signal: new AbortController().signal, initialDelayMs: 20, factor: 2, maxDelayMs: 1_000, jitter: 0 },
    );
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps[0]).toBeGreaterThanOrEqual(18);
    expect(gaps[1]).toBeGreaterThanOrEqual(38);
    expect(gaps[2]).toBeGreaterThanOrEqual(78);
  });

  it('rejects with PollDeadlineError after the deadline, even while a look hangs', async () => {
    const started = performance.now();
    const error = await pollJob(
      (signal) =>
        new Promise<never>((_, reject) =>
          signal.addEventListener('abort', () => reject(new Error('aborted fetch'))),
        ),
      { ...fast, signal: new AbortController().signal, deadlineMs: 50 },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PollDeadlineError);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('stops at once, mid-wait, when the signal aborts', async () => {
    const controller = new AbortController();
    const reason = new Error('cancelled by the user');
    let looks = 0;
    setTimeout(() => controller.abort(reason), 30);
    const started = performance.now();
    const error = await pollJob(
      async () => {
        looks++;
        return { done: false };
      },
      { signal: controller.signal, initialDelayMs: 10_000, jitter: 0 },
    ).catch((e: unknown) => e);
    expect(error).toBe(reason);
    expect(looks).toBe(1);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('gives each look a signal of its own (listeners a client leaves on it do not pile up), aborted with the run', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const controller = new AbortController();
      const seen = new Set<AbortSignal>();
      let looks = 0;
      const value = await pollJob(
        async (signal) => {
          seen.add(signal);
          // As fetch does: a listener removed only when the request is garbage-collected.
          signal.addEventListener('abort', () => undefined);
          looks++;
          return looks < 15 ? { done: false } : { done: true, value: 'done' };
        },
        { signal: controller.signal, ...fast },
      );
      expect(value).toBe('done');
      expect(seen.size).toBe(15);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).not.toContain('MaxListenersExceededWarning');

      const aborted = new AbortController();
      let lookSignal: AbortSignal | undefined;
      const stopped = pollJob(
        async (signal) => {
          lookSignal = signal;
          aborted.abort(new Error('cancelled'));
          return { done: false };
        },
        { signal: aborted.signal, ...fast },
      ).catch((error: unknown) => error);
      expect(await stopped).toEqual(new Error('cancelled'));
      expect(lookSignal?.aborted).toBe(true);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('retries transient failures up to the limit, then throws the last one', async () => {
    let looks = 0;
    const value = await pollJob(
      async () => {
        looks++;
        if (looks <= 2) throw new Error('503');
        return { done: true, value: looks };
      },
      { ...fast, signal: new AbortController().signal, isTransient: () => true },
    );
    expect(value).toBe(3);

    let failures = 0;
    const error = await pollJob(
      async () => {
        failures++;
        throw new Error(`503 #${failures}`);
      },
      { ...fast, signal: new AbortController().signal, isTransient: () => true, maxConsecutiveFailures: 2 },
    ).catch((e: unknown) => e);
    expect((error as Error).message).toBe('503 #3');

    const fatal = new Error('401');
    await expect(
      pollJob(
        async () => {
          throw fatal;
        },
        { ...fast, signal: new AbortController().signal, isTransient: () => false },
      ),
    ).rejects.toBe(fatal);
  });
});

describe('planSegments', () => {
  it('makes the fewest, most even clips of allowed lengths', () => {
    const runway = [2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(planSegments(8, runway)).toEqual([8]);
    expect(planSegments(15, runway)).toEqual([8, 7]);
    expect(planSegments(30, runway)).toEqual([10, 10, 10]);
    expect(planSegments(60, runway)).toEqual([10, 10, 10, 10, 10, 10]);
    expect(planSegments(8, [4, 6, 8])).toEqual([8]);
    expect(planSegments(15, [4, 6, 8])).toEqual([8, 8]);
    expect(planSegments(30, [4, 6, 8])).toEqual([8, 8, 8, 6]);
    expect(planSegments(60, [8])).toEqual([8, 8, 8, 8, 8, 8, 8, 8]);
  });
});

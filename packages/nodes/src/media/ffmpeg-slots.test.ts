import { availableParallelism } from 'node:os';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runFfmpeg } from './ffmpeg.ts';
import { ffmpegConcurrency, ffmpegLoad, resetFfmpegSlots, setFfmpegConcurrency } from './ffmpeg-slots.ts';

/** An ffmpeg that encodes a test pattern in real time until it is killed. */
const ENDLESS = ['-re', '-f', 'lavfi', '-i', 'testsrc=size=32x32:rate=5', '-f', 'null', '-'];

afterEach(() => {
  vi.unstubAllEnvs();
  resetFfmpegSlots();
});

/** Settles how a promise ended, without letting a rejection go unhandled. */
function outcome(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => `rejected: ${error instanceof Error ? error.message : String(error)}`,
  );
}

describe('ffmpegConcurrency', () => {
  it('is one process per core by default', () => {
    vi.stubEnv('VIDGENIE_FFMPEG_CONCURRENCY', '');
    expect(ffmpegConcurrency()).toBe(Math.max(1, availableParallelism()));
  });

  it('reads VIDGENIE_FFMPEG_CONCURRENCY', () => {
    vi.stubEnv('VIDGENIE_FFMPEG_CONCURRENCY', ' 3 ');
    expect(ffmpegConcurrency()).toBe(3);
  });

  it.each(['0', '-1', '1.5', 'two', '257'])('refuses %j, naming the variable and what it takes', (value) => {
    vi.stubEnv('VIDGENIE_FFMPEG_CONCURRENCY', value);
    expect(() => ffmpegConcurrency()).toThrow(
      `VIDGENIE_FFMPEG_CONCURRENCY must be a whole number from 1 to 256 (got "${value}")`,
    );
  });

  it('makes runFfmpeg reject with that error, starting nothing', async () => {
    vi.stubEnv('VIDGENIE_FFMPEG_CONCURRENCY', 'many');
    await expect(runFfmpeg(['-version'])).rejects.toThrow(RangeError);
    expect(() => ffmpegLoad()).toThrow(RangeError);
  });
});

describe('runFfmpeg slots', () => {
  it('runs no more processes than the limit; the others wait their turn and then run', async () => {
    vi.stubEnv('VIDGENIE_FFMPEG_CONCURRENCY', '1');
    const first = new AbortController();
    const running = outcome(runFfmpeg(ENDLESS, { signal: first.signal }));
    const waiting = runFfmpeg(['-version']);
    expect(ffmpegLoad()).toEqual({ running: 1, waiting: 1, concurrency: 1 });

    first.abort(new Error('first stopped'));
    expect(await running).toBe('rejected: first stopped');
    const { stdout } = await waiting;
    expect(stdout.toString()).toMatch(/^ffmpeg version/);
    expect(ffmpegLoad()).toEqual({ running: 0, waiting: 0, concurrency: 1 });
  });

  it('takes an aborted call out of the queue without starting it, and keeps the order of the others', async () => {
    vi.stubEnv('VIDGENIE_FFMPEG_CONCURRENCY', '1');
    const first = new AbortController();
    const second = new AbortController();
    const order: string[] = [];
    const running = outcome(runFfmpeg(ENDLESS, { signal: first.signal }));
    const dropped = outcome(
      runFfmpeg(['-version'], {
        signal: second.signal,
        onStdout: () => order.push('second'),
      }),
    );
    const third = runFfmpeg(['-version'], { onStdout: () => order.push('third') });
    expect(ffmpegLoad().waiting).toBe(2);

    second.abort(new Error('second cancelled'));
    expect(await dropped).toBe('rejected: second cancelled');
    expect(ffmpegLoad()).toEqual({ running: 1, waiting: 1, concurrency: 1 });

    first.abort(new Error('first stopped'));
    expect(await running).toBe('rejected: first stopped');
    await third;
    expect(order.length).toBeGreaterThan(0);
    expect(new Set(order)).toEqual(new Set(['third']));
  });

  it('runs up to the limit at once', async () => {
    vi.stubEnv('VIDGENIE_FFMPEG_CONCURRENCY', '2');
    const stop = new AbortController();
    const calls = [0, 1, 2].map(() => outcome(runFfmpeg(ENDLESS, { signal: stop.signal })));
    expect(ffmpegLoad()).toEqual({ running: 2, waiting: 1, concurrency: 2 });
    stop.abort(new Error('done'));
    expect(await Promise.all(calls)).toEqual(['rejected: done', 'rejected: done', 'rejected: done']);
    expect(ffmpegLoad()).toEqual({ running: 0, waiting: 0, concurrency: 2 });
  });

  it('takes a limit set by the host over the variable, and starts waiting calls when it is raised', async () => {
    vi.stubEnv('VIDGENIE_FFMPEG_CONCURRENCY', '4');
    setFfmpegConcurrency(1);
    expect(ffmpegConcurrency()).toBe(1);
    const stop = new AbortController();
    const calls = [0, 1, 2].map(() => outcome(runFfmpeg(ENDLESS, { signal: stop.signal })));
    expect(ffmpegLoad()).toEqual({ running: 1, waiting: 2, concurrency: 1 });
    setFfmpegConcurrency(3);
    expect(ffmpegLoad()).toEqual({ running: 3, waiting: 0, concurrency: 3 });
    stop.abort(new Error('done'));
    await Promise.all(calls);
  });

  it.each([0, 2.5, 257, Number.NaN])('refuses a limit of %s', (value) => {
    expect(() => setFfmpegConcurrency(value)).toThrow(
      `The ffmpeg concurrency must be a whole number from 1 to 256 (got ${value}).`,
    );
  });

  it('serves work that began first: a later call under a signal keeps the turn of its first call', async () => {
    vi.stubEnv('VIDGENIE_FFMPEG_CONCURRENCY', '1');
    const blocker = new AbortController();
    const first = new AbortController();
    const later = new AbortController();
    const order: string[] = [];
    const call = (name: string, signal: AbortSignal) =>
      runFfmpeg(['-version'], { signal }).then(() => order.push(name));
    const blocking = outcome(runFfmpeg(ENDLESS, { signal: blocker.signal }));
    const calls = [
      call('first, step 1', first.signal),
      call('later, step 1', later.signal),
      call('first, step 2', first.signal),
    ];
    expect(ffmpegLoad().waiting).toBe(3);
    blocker.abort(new Error('unblocked'));
    await blocking;
    await Promise.all(calls);
    expect(order).toEqual(['first, step 1', 'first, step 2', 'later, step 1']);
  });
});

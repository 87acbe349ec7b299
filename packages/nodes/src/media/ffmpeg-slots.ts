import { availableParallelism } from 'node:os';
import PQueue from 'p-queue';

/** The most ffmpeg processes {@link ffmpegConcurrency} allows at once. */
const MAX_CONCURRENCY = 256;

/**
 * How many ffmpeg processes this process runs at once: the limit {@link setFfmpegConcurrency} set,
 * else the `VIDGENIE_FFMPEG_CONCURRENCY` environment variable when it is set (a whole number from
 * 1 to 256), else the number of CPU cores Node may use (`os.availableParallelism()`). Encoding is
 * CPU-bound: more processes than cores do not finish sooner; they share the cores, so every render
 * ends late, all together, and starve the event loop serving requests. Throws a `RangeError`
 * naming the variable when its value is not such a number.
 *
 * @example
 * ```ts
 * import { ffmpegConcurrency } from '@vidgenie/nodes';
 * console.log(`${ffmpegConcurrency()} ffmpeg processes at a time`);
 * ```
 */
export function ffmpegConcurrency(): number {
  if (queue !== undefined) return queue.concurrency;
  const raw = process.env.VIDGENIE_FFMPEG_CONCURRENCY?.trim();
  if (raw === undefined || raw === '') return Math.max(1, availableParallelism());
  const value = Number(raw);
  if (!isConcurrency(value)) {
    throw new RangeError(
      `VIDGENIE_FFMPEG_CONCURRENCY must be a whole number from 1 to ${MAX_CONCURRENCY} (got "${raw}"); unset it to run one ffmpeg per CPU core.`,
    );
  }
  return value;
}

/**
 * Sets how many ffmpeg processes this process runs at once, instead of `VIDGENIE_FFMPEG_CONCURRENCY`
 * or the core count (a host with its own configuration calls it at startup). Raising it starts
 * waiting calls at once; lowering it lets running processes finish. Throws a `RangeError` unless
 * `concurrency` is a whole number from 1 to 256.
 *
 * @example
 * ```ts
 * import { ffmpegLoad, setFfmpegConcurrency } from '@vidgenie/nodes';
 * setFfmpegConcurrency(1); // one render at a time, e.g. beside a busy database
 * console.log(ffmpegLoad().concurrency); // 1
 * ```
 */
export function setFfmpegConcurrency(concurrency: number): void {
  if (!isConcurrency(concurrency)) {
    throw new RangeError(
      `The ffmpeg concurrency must be a whole number from 1 to ${MAX_CONCURRENCY} (got ${concurrency}).`,
    );
  }
  if (queue === undefined) queue = new PQueue({ concurrency });
  else queue.concurrency = concurrency;
}

function isConcurrency(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= MAX_CONCURRENCY;
}

/** ffmpeg processes of this process: running now, waiting for a slot, and the limit. */
export interface FfmpegLoad {
  /** Processes started and not yet ended. */
  readonly running: number;
  /** Calls waiting for a slot, in the order they came. */
  readonly waiting: number;
  /** The limit ({@link ffmpegConcurrency}). */
  readonly concurrency: number;
}

let queue: PQueue | undefined;

/**
 * This process's ffmpeg slots, made on first use with {@link ffmpegConcurrency}'s limit.
 * @internal
 */
export function ffmpegSlots(): PQueue {
  queue ??= new PQueue({ concurrency: ffmpegConcurrency() });
  return queue;
}

/**
 * How many ffmpeg processes this process runs and how many calls wait for a slot: a gauge for
 * metrics (a queue that keeps growing means the machine renders slower than runs arrive).
 *
 * @example
 * ```ts
 * import { ffmpegLoad } from '@vidgenie/nodes';
 * const { running, waiting, concurrency } = ffmpegLoad();
 * console.log(`ffmpeg: ${running}/${concurrency} running, ${waiting} waiting`);
 * ```
 */
export function ffmpegLoad(): FfmpegLoad {
  return { running: queue?.pending ?? 0, waiting: queue?.size ?? 0, concurrency: ffmpegConcurrency() };
}

/**
 * Forgets the slots so that the next call reads `VIDGENIE_FFMPEG_CONCURRENCY` again (tests only;
 * calls already queued keep their queue). @internal
 */
export function resetFfmpegSlots(): void {
  queue = undefined;
}

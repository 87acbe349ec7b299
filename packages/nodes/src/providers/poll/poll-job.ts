/** What one look at a provider's job says. */
export type PollCheck<T> =
  /** The job finished: polling stops and `pollJob` resolves with `value`. */
  | { readonly done: true; readonly value: T }
  /**
   * The job is still queued or running. `progress` is the provider's own fraction in [0, 1] when
   * it gives one; without it, progress is estimated from the elapsed time.
   */
  | { readonly done: false; readonly progress?: number; readonly message?: string };

/** Options of {@link pollJob}. */
export interface PollJobOptions {
  /** Aborting stops polling at once (even mid-wait) and rejects with the signal's reason. */
  readonly signal: AbortSignal;
  /** Receives progress in [0, 1): never decreasing, never 1 (the caller reports 1 when done). */
  readonly onProgress?: ((fraction: number, message?: string) => void) | undefined;
  /** The wait before the second look, in ms (the first look is immediate unless `initialWait`). Default 1 000. */
  readonly initialDelayMs?: number | undefined;
  /** The longest wait between looks, in ms. Default 10 000. */
  readonly maxDelayMs?: number | undefined;
  /** How much each wait grows. Default 1.5. */
  readonly factor?: number | undefined;
  /** Random spread of each wait, as a share of it (0.2: ±20%). Default 0.2. */
  readonly jitter?: number | undefined;
  /** Wait `initialDelayMs` before the first look too (a job just created is never done). Default false. */
  readonly initialWait?: boolean | undefined;
  /** The longest time polling may take in total, in ms; then {@link PollDeadlineError}. Default 20 min. */
  readonly deadlineMs?: number | undefined;
  /** How long the job usually takes, in ms, for the estimated progress. Default 60 000. */
  readonly expectedMs?: number | undefined;
  /**
   * Whether a failed look may be retried at the next tick (a 5xx, a dropped connection) instead
   * of failing the poll. Default: never.
   */
  readonly isTransient?: ((error: unknown) => boolean) | undefined;
  /** How many transient failures in a row are tolerated before the last one is thrown. Default 3. */
  readonly maxConsecutiveFailures?: number | undefined;
  /** The clock, in ms (tests). Default `performance.now`. */
  readonly now?: (() => number) | undefined;
  /** Random numbers in [0, 1) for the jitter (tests). Default `Math.random`. */
  readonly random?: (() => number) | undefined;
}

/** Thrown by {@link pollJob} when the job is not done by the deadline. */
export class PollDeadlineError extends Error {
  override readonly name = 'PollDeadlineError';
  /** The deadline that passed, in ms. */
  readonly deadlineMs: number;
  constructor(deadlineMs: number) {
    super(`The job was not done after ${Math.round(deadlineMs / 1000)} s.`);
    this.deadlineMs = deadlineMs;
  }
}

/** The highest progress reported before a job is done. */
export const MAX_PENDING_PROGRESS = 0.99;
/** The ceiling of the time-based estimate: it slows towards it and never reaches it. */
const ESTIMATE_CEILING = 0.95;

/**
 * Progress estimated from elapsed time when the provider gives none: it rises quickly at first,
 * reaches about 0.82 at `expectedMs` and creeps towards 0.95 afterwards, never reaching it.
 *
 * @example
 * ```ts
 * import { estimateProgress } from '@vidgenie/nodes';
 * estimateProgress(0, 60_000); // 0
 * estimateProgress(60_000, 60_000); // ≈ 0.82
 * ```
 */
export function estimateProgress(elapsedMs: number, expectedMs: number): number {
  if (!(elapsedMs > 0) || !(expectedMs > 0)) return 0;
  return ESTIMATE_CEILING * (1 - Math.exp((-2 * elapsedMs) / expectedMs));
}

/**
 * The wait before poll number `attempt` (0-based: the wait after the first look is attempt 0):
 * `initialDelayMs × factor^attempt`, capped at `maxDelayMs`, spread by ±`jitter`.
 */
export function pollDelay(
  attempt: number,
  options: Pick<PollJobOptions, 'initialDelayMs' | 'maxDelayMs' | 'factor' | 'jitter' | 'random'> = {},
): number {
  const initial = options.initialDelayMs ?? 1_000;
  const max = Math.max(initial, options.maxDelayMs ?? 10_000);
  const factor = options.factor ?? 1.5;
  const jitter = Math.min(1, Math.max(0, options.jitter ?? 0.2));
  const base = Math.min(max, initial * factor ** Math.max(0, attempt));
  const spread = 1 + jitter * (2 * (options.random ?? Math.random)() - 1);
  return Math.max(0, Math.round(base * spread));
}

/**
 * Polls a provider's long-running job until `check` says it is done, and resolves with its value.
 *
 * - The waits between looks grow from `initialDelayMs` by `factor` up to `maxDelayMs`, with jitter
 *   so that many runs do not poll in step (defaults: 1 s, ×1.5, 10 s, ±20%).
 * - Progress goes to `onProgress`: the provider's own fraction where it gives one, else an estimate
 *   from the elapsed time against `expectedMs`. It never decreases and stays below 1.
 * - `signal` aborts at once, even mid-wait; `check` receives a signal that also ends at the
 *   deadline, so a hanging look does not outlive it.
 * - After `deadlineMs` the poll rejects with {@link PollDeadlineError}.
 * - A look that throws fails the poll, unless `isTransient` says the error may pass: then up to
 *   `maxConsecutiveFailures` such failures in a row are retried at the next tick.
 *
 * @example
 * ```ts
 * import { pollJob } from '@vidgenie/nodes';
 * declare const client: {
 *   tasks: { retrieve(id: string, o: { signal: AbortSignal }): Promise<{ status: string; output: string[]; progress: number }> };
 * };
 * declare const taskId: string;
 * declare const signal: AbortSignal;
 * declare const progress: (fraction: number, message?: string) => void;
 * const url = await pollJob(
 *   async (signal) => {
 *     const task = await client.tasks.retrieve(taskId, { signal });
 *     return task.status === 'SUCCEEDED' ? { done: true, value: task.output[0] } : { done: false, progress: task.progress };
 *   },
 *   { signal, onProgress: (fraction) => progress(fraction, 'Generating'), expectedMs: 90_000 },
 * );
 * ```
 */
export async function pollJob<T>(
  check: (signal: AbortSignal) => Promise<PollCheck<T>>,
  options: PollJobOptions,
): Promise<T> {
  const { signal, onProgress } = options;
  const now = options.now ?? (() => performance.now());
  const deadlineMs = options.deadlineMs ?? 20 * 60_000;
  const expectedMs = options.expectedMs ?? 60_000;
  const maxFailures = Math.max(0, options.maxConsecutiveFailures ?? 3);
  const started = now();
  signal.throwIfAborted();

  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new PollDeadlineError(deadlineMs)), deadlineMs);
  const lookSignal = AbortSignal.any([signal, deadline.signal]);
  let reported = -1;
  let lastMessage: string | undefined;
  const report = (fraction: number, message: string | undefined) => {
    const clamped = Math.min(MAX_PENDING_PROGRESS, Math.max(0, fraction));
    if (clamped <= reported && message === lastMessage) return;
    reported = Math.max(reported, clamped);
    lastMessage = message;
    onProgress?.(reported, message);
  };

  try {
    let failures = 0;
    for (let attempt = 0; ; attempt++) {
      const wait = options.initialWait === true ? attempt : attempt - 1;
      if (wait >= 0) await sleep(pollDelay(wait, options), lookSignal);
      let result: PollCheck<T>;
      try {
        // A signal of its own per look: fetch (undici) drops its abort listener only when the
        // request is garbage-collected, so one signal shared by every look of a long poll piled
        // them up (MaxListenersExceededWarning after ten looks). A derived signal adds none.
        result = await check(AbortSignal.any([lookSignal]));
        failures = 0;
      } catch (error) {
        signal.throwIfAborted();
        if (deadline.signal.aborted) throw deadline.signal.reason;
        if (options.isTransient?.(error) === true && failures < maxFailures) {
          failures++;
          continue;
        }
        throw error;
      }
      if (result.done) return result.value;
      const estimate = estimateProgress(now() - started, expectedMs);
      report(result.progress ?? estimate, result.message);
    }
  } catch (error) {
    // An abort (or the deadline) that interrupted a look surfaces as the reason, not as whatever
    // the SDK made of the aborted request.
    signal.throwIfAborted();
    if (deadline.signal.aborted) throw deadline.signal.reason;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

import type { EventEmitter } from 'eventemitter3';
import type { RunEmitterEvents } from '../events/run-events.ts';
import type { RunId } from '../ids/ids.ts';
import type { RunOutcome } from './run-outcome.ts';

/** A listener for one run event channel. */
export type RunListener<K extends keyof RunEmitterEvents> = (...args: RunEmitterEvents[K]) => void;

/**
 * A started run: its id, its outcome, typed event subscriptions and cancellation.
 * Listeners added right after `start()` returns see every event, `run.started` included.
 */
export interface RunHandle {
  readonly runId: RunId;
  /** Resolves when the run ends; never rejects. */
  readonly result: Promise<RunOutcome>;
  /** Cancels the run: running nodes are aborted, nothing new starts, the hold is released. */
  cancel(reason?: string): void;
  /**
   * Gives the run up to another writer (a worker shutting down or that lost its lease): it stops
   * here at once and writes, captures, releases and emits nothing more, as when another writer
   * claims it; provider jobs are not cancelled, so whoever resumes the run from its checkpoints
   * finds them. The result is `failed` with a `STALE_FENCE` error.
   */
  abandon(): void;
  on<K extends keyof RunEmitterEvents>(type: K, listener: RunListener<K>): RunHandle;
  once<K extends keyof RunEmitterEvents>(type: K, listener: RunListener<K>): RunHandle;
  off<K extends keyof RunEmitterEvents>(type: K, listener: RunListener<K>): RunHandle;
}

/** @internal */
export function createRunHandle(args: {
  readonly runId: RunId;
  readonly emitter: EventEmitter<RunEmitterEvents>;
  readonly result: Promise<RunOutcome>;
  readonly cancel: (reason: string) => void;
  readonly abandon: () => void;
}): RunHandle {
  const { emitter } = args;
  const handle: RunHandle = {
    runId: args.runId,
    result: args.result,
    cancel: (reason = 'cancelled by the caller') => args.cancel(reason),
    abandon: () => args.abandon(),
    on: (type, listener) => {
      emitter.on(type, listener as never);
      return handle;
    },
    once: (type, listener) => {
      emitter.once(type, listener as never);
      return handle;
    },
    off: (type, listener) => {
      emitter.off(type, listener as never);
      return handle;
    },
  };
  return Object.freeze(handle);
}

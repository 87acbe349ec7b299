import { EngineError } from './engine-error.ts';

/**
 * A checkpoint store refused a write because its fencing token is older than the run's current
 * one: another worker has taken the run over. The writer must stop working on the run.
 *
 * @example
 * ```ts
 * import { StaleFenceError } from '@vidgenie/engine';
 * const e = new StaleFenceError({ runId: 'run-1', fence: 1, current: 2 });
 * console.log(e.code); // STALE_FENCE
 * ```
 */
export class StaleFenceError extends EngineError {
  override readonly name: string = 'StaleFenceError';
  readonly runId: string;
  readonly fence: number;
  readonly current: number;
  constructor(args: { readonly runId: string; readonly fence: number; readonly current: number }) {
    super(
      'STALE_FENCE',
      `Run ${args.runId} is owned by a newer writer (fence ${args.current}); this writer holds fence ${args.fence}.`,
      { retryable: false },
    );
    this.runId = args.runId;
    this.fence = args.fence;
    this.current = args.current;
  }
  override details(): Readonly<Record<string, unknown>> {
    return { runId: this.runId, fence: this.fence, current: this.current };
  }
}

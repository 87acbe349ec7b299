import { EngineError } from './engine-error.ts';

/**
 * Raised by a billing host's `reserve` hook when the balance cannot cover the estimate. The run
 * stops before any node starts.
 *
 * @example
 * ```ts
 * import { InsufficientCreditsError } from '@vidgenie/engine';
 * throw new InsufficientCreditsError({ required: 35, available: 12 });
 * ```
 */
export class InsufficientCreditsError extends EngineError {
  override readonly name: string = 'InsufficientCreditsError';
  /** Credits the run needs. */
  readonly required: number;
  /** Credits the account has available. */
  readonly available: number;
  constructor(args: { readonly required: number; readonly available: number; readonly message?: string }) {
    super(
      'INSUFFICIENT_CREDITS',
      args.message ?? `This run needs ${args.required} credits but only ${args.available} are available.`,
      { retryable: false },
    );
    this.required = args.required;
    this.available = args.available;
  }
  override details(): Readonly<Record<string, unknown>> {
    return { required: this.required, available: this.available };
  }
}

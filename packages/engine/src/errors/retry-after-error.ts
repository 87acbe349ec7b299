import { EngineError, type EngineErrorOptions } from './engine-error.ts';

/**
 * Thrown by a node to be retried after a given delay instead of the usual backoff, e.g. after a
 * provider's `Retry-After` header. It still counts as an attempt.
 *
 * @example
 * ```ts
 * import { RetryAfterError } from '@vidgenie/engine';
 * throw new RetryAfterError('rate limited by the provider', { afterMs: 2_000 });
 * ```
 */
export class RetryAfterError extends EngineError {
  override readonly name: string = 'RetryAfterError';
  /** How long to wait before the next attempt, in milliseconds. */
  readonly afterMs: number;
  constructor(
    message: string,
    options: Omit<EngineErrorOptions, 'retryable'> & { readonly afterMs: number },
  ) {
    super('RETRY_AFTER', message, { ...options, retryable: true });
    this.afterMs = Math.max(0, options.afterMs);
  }
  override details(): Readonly<Record<string, unknown>> {
    return { afterMs: this.afterMs };
  }
}

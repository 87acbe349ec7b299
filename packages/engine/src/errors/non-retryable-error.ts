import { EngineError, type EngineErrorOptions } from './engine-error.ts';

/**
 * Thrown by a node to fail at once, without retries: a rejected key, content refused by a safety
 * system, a request that can never succeed.
 *
 * @example
 * ```ts
 * import { NonRetryableError } from '@vidgenie/engine';
 * throw new NonRetryableError('Your OpenAI key was rejected: check it in Settings');
 * ```
 */
export class NonRetryableError extends EngineError {
  override readonly name: string = 'NonRetryableError';
  constructor(message: string, options: Omit<EngineErrorOptions, 'retryable'> = {}) {
    super('NON_RETRYABLE', message, { ...options, retryable: false });
  }
}

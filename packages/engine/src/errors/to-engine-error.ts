import { EngineError } from './engine-error.ts';

/**
 * Normalises anything thrown into an {@link EngineError}. Engine errors pass through; other errors
 * become retryable `NODE_FAILED` errors that keep the original as `cause`.
 *
 * @example
 * ```ts
 * import { toEngineError } from '@vidgenie/engine';
 * const e = toEngineError(new TypeError('fetch failed'));
 * console.log(e.code, e.retryable); // NODE_FAILED true
 * ```
 */
export function toEngineError(error: unknown): EngineError {
  if (error instanceof EngineError) return error;
  if (error instanceof Error) return new EngineError('NODE_FAILED', error.message, { cause: error });
  return new EngineError('NODE_FAILED', typeof error === 'string' ? error : 'Unknown error', {
    cause: error,
  });
}

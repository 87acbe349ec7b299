import { EngineError } from '@vidgenie/engine';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { ApiError } from '../errors/api-error.ts';
import { ENGINE_ERROR_API_CODE } from '../errors/api-error-code.ts';
import type { AppEnv } from './app-env.ts';

/**
 * Turns any thrown value into the one error shape. `ApiError`s are answered as they are; engine
 * errors through their code map; Hono's own (malformed JSON, body too large) get a code; anything
 * else is logged with the request id and answered with a generic 500 (no stack, no detail).
 * @internal
 */
export function handleError(error: Error, c: Context<AppEnv>): Response {
  const apiError = toApiError(error);
  if (apiError.code === 'INTERNAL') {
    c.get('services')?.log.error({ err: error, requestId: c.get('requestId') }, 'unhandled error');
  }
  for (const [name, value] of Object.entries(apiError.headers)) c.header(name, value);
  return c.json(apiError.toBody(), apiError.status);
}

function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof EngineError) {
    const code = ENGINE_ERROR_API_CODE[error.code];
    return code === 'INTERNAL'
      ? new ApiError('INTERNAL', 'Something went wrong on our side.', { cause: error })
      : new ApiError(code, error.message, { cause: error });
  }
  if (error instanceof HTTPException) {
    if (error.status === 413) return new ApiError('PAYLOAD_TOO_LARGE', 'The request body is too large.');
    if (error.status === 400) return new ApiError('VALIDATION_FAILED', 'The request body is not valid JSON.');
    if (error.status === 401) return new ApiError('UNAUTHENTICATED', 'Sign in first.');
    if (error.status === 415) {
      return new ApiError(
        'UNSUPPORTED_MEDIA_TYPE',
        'Send the body as JSON with "Content-Type: application/json".',
      );
    }
  }
  return new ApiError('INTERNAL', 'Something went wrong on our side. The error was logged.', {
    cause: error,
  });
}

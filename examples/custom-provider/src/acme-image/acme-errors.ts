import { type ProviderFailure, type ProviderIdentity, providerError, scrubSecret } from '@vidgenie/nodes';

/** Acme's error envelope: `{ "error": { "code": "...", "message": "..." } }`. */
export interface AcmeErrorBody {
  readonly error?: { readonly code?: string; readonly message?: string };
}

/** An HTTP answer Acme sent instead of an image. */
export class AcmeHttpError extends Error {
  override readonly name = 'AcmeHttpError';
  constructor(
    readonly status: number,
    readonly body: AcmeErrorBody | undefined,
    readonly retryAfterSeconds: number | undefined,
  ) {
    super(`Acme answered HTTP ${status}${body?.error?.code === undefined ? '' : ` (${body.error.code})`}`);
  }
}

/** Acme answered 200 with something that is not a render. */
export class AcmeShapeError extends Error {
  override readonly name = 'AcmeShapeError';
}

/** Which {@link ProviderFailure} an Acme HTTP status (and error code) means. */
export function acmeFailure(status: number, code: string | undefined): ProviderFailure {
  if (status === 401 || status === 403) return 'invalid_key';
  if (status === 402) return 'quota_exhausted';
  if (status === 429) return 'rate_limited';
  if (status === 422 && code === 'content_blocked') return 'content_rejected';
  if (status === 408 || status === 504) return 'timeout';
  if (status >= 400 && status < 500) return 'bad_request';
  return 'unavailable';
}

/**
 * Turns anything a call to Acme threw into the provider error that steers the engine's retries.
 * An aborted call rejects with the signal's reason; Acme's own messages are scrubbed of the key.
 */
export function mapAcmeError(
  error: unknown,
  args: {
    readonly provider: ProviderIdentity;
    readonly apiKey: string | undefined;
    readonly signal: AbortSignal;
  },
): unknown {
  const { provider, apiKey, signal } = args;
  if (signal.aborted) return signal.reason ?? error;
  if (error instanceof AcmeHttpError) {
    const failure = acmeFailure(error.status, error.body?.error?.code);
    const message = error.body?.error?.message;
    const reason = message === undefined ? undefined : scrubSecret(message, apiKey);
    return providerError({
      provider,
      failure,
      ...(reason === undefined || failure === 'invalid_key' ? {} : { reason }),
      ...(error.retryAfterSeconds === undefined ? {} : { retryAfterMs: error.retryAfterSeconds * 1000 }),
    });
  }
  if (error instanceof AcmeShapeError) {
    return providerError({ provider, failure: 'malformed_response', reason: error.message });
  }
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return providerError({ provider, failure: 'timeout' });
  }
  // A network failure (fetch's TypeError): the cause stays out, it may carry the request.
  return providerError({ provider, failure: 'unavailable', reason: 'could not reach Acme Images' });
}

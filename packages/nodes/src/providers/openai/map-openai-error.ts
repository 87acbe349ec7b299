import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import {
  type ProviderFailure,
  type ProviderIdentity,
  ProviderRateLimitedError,
  ProviderRejectedError,
  ProviderUnavailableError,
  providerError,
  scrubSecret,
} from '../../provider/provider-errors.ts';

/**
 * OpenAI's answer did not have the shape we expect (no choice, no image, not a PNG...). Thrown by
 * the OpenAI providers and mapped to `malformed_response`. @internal
 */
export class OpenAiShapeError extends Error {
  override readonly name = 'OpenAiShapeError';
}

/** Why an OpenAI call failed, before it becomes an engine error. @internal */
export interface OpenAiFailure {
  readonly failure: ProviderFailure;
  /** OpenAI's own reason, free of the key (rejections only). */
  readonly reason?: string;
  /** For `rate_limited`: OpenAI's Retry-After, in ms, when it sent one. */
  readonly retryAfterMs?: number;
  /** The HTTP status, when there was an answer. */
  readonly status?: number;
}

/** OpenAI's safety-system codes on a 400: `moderation_blocked` (GPT image), `content_policy_violation` (DALL·E). */
const CONTENT_CODES: ReadonlySet<string> = new Set(['moderation_blocked', 'content_policy_violation']);

/**
 * Reads the delay a 429 asks for: `retry-after-ms` first (OpenAI's own header), then `retry-after`
 * in seconds or as an HTTP date, as the SDK itself does. Undefined when there is none we can read.
 * @internal
 */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | undefined {
  const ms = headers?.get('retry-after-ms');
  if (ms != null && ms.trim() !== '') {
    const value = Number(ms);
    if (Number.isFinite(value)) return Math.max(0, value);
  }
  const after = headers?.get('retry-after');
  if (after != null && after.trim() !== '') {
    const seconds = Number(after);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const date = Date.parse(after);
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }
  return undefined;
}

/** A provider message fit for the middle of a sentence: no key, no trailing period, bounded. @internal */
export function reasonFrom(message: unknown, apiKey: string | undefined): string | undefined {
  if (typeof message !== 'string') return undefined;
  const text = scrubSecret(message, apiKey)
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[\s.]+$/u, '');
  if (text === '') return undefined;
  return text.length > 500 ? `${text.slice(0, 499)}…` : text;
}

/** OpenAI's own message of an API error (the `error.message` of its body), not the SDK's "400 …" prefix. */
function apiMessage(error: APIError): unknown {
  const body = error.error as { readonly message?: unknown } | undefined;
  return body?.message ?? error.message;
}

/**
 * Sorts an error of the `openai` SDK (or of our own shape checks) into a {@link ProviderFailure}:
 * 401/403 → `invalid_key`; 429 `insufficient_quota` → `quota_exhausted`; other 429 →
 * `rate_limited` with the Retry-After; 400 `moderation_blocked` / `content_policy_violation` →
 * `content_rejected` with OpenAI's reason; 408 → `timeout`; 409 (a lock conflict, which OpenAI
 * says to retry) and >= 500 → `unavailable`; other 4xx → `bad_request` with OpenAI's reason; a
 * connection timeout → `timeout`; a failed connection → `unavailable`; unreadable JSON or an
 * unexpected shape → `malformed_response`; anything else → `unavailable`. Reasons never contain
 * `apiKey`. @internal
 */
export function classifyOpenAiError(error: unknown, apiKey: string | undefined): OpenAiFailure {
  if (error instanceof OpenAiShapeError || error instanceof SyntaxError) {
    const reason = error instanceof OpenAiShapeError ? reasonFrom(error.message, apiKey) : undefined;
    return { failure: 'malformed_response', ...(reason === undefined ? {} : { reason }) };
  }
  // Subclass first: a timeout is also a connection error.
  if (error instanceof APIConnectionTimeoutError) return { failure: 'timeout' };
  if (error instanceof APIConnectionError) {
    return { failure: 'unavailable', reason: 'the connection to OpenAI failed' };
  }
  if (error instanceof APIError && typeof error.status === 'number') {
    const status = error.status;
    const code = typeof error.code === 'string' ? error.code : undefined;
    if (status === 401 || status === 403) return { failure: 'invalid_key', status };
    if (status === 429) {
      if (code === 'insufficient_quota' || error.type === 'insufficient_quota') {
        return { failure: 'quota_exhausted', status };
      }
      const after = retryAfterMs(error.headers);
      return { failure: 'rate_limited', status, ...(after === undefined ? {} : { retryAfterMs: after }) };
    }
    const reason = reasonFrom(apiMessage(error), apiKey);
    const withReason = reason === undefined ? {} : { reason };
    if (status === 400 && code !== undefined && CONTENT_CODES.has(code)) {
      return { failure: 'content_rejected', status, ...withReason };
    }
    if (status === 408) return { failure: 'timeout', status };
    if (status === 409 || status >= 500) return { failure: 'unavailable', status, reason: `HTTP ${status}` };
    if (status >= 400) return { failure: 'bad_request', status, ...withReason };
    return { failure: 'malformed_response', status, reason: `unexpected HTTP ${status}` };
  }
  return { failure: 'unavailable' };
}

/**
 * The error to keep as `cause`: the original one, unless the key appears in it (an SDK message or a
 * body may echo it), then a scrubbed copy that keeps its name, status and code.
 */
function safeCause(error: unknown, apiKey: string | undefined): unknown {
  if (apiKey === undefined || apiKey.length < 4 || !(error instanceof Error)) return error;
  let body = '';
  try {
    body = JSON.stringify((error as { readonly error?: unknown }).error) ?? '';
  } catch {
    body = '';
  }
  const leaks = [error.message, error.stack ?? '', body].some((text) => text.includes(apiKey));
  if (!leaks) return error;
  const copy = new Error(scrubSecret(error.message, apiKey));
  copy.name = error.name;
  copy.stack = scrubSecret(error.stack ?? '', apiKey);
  const { status, code, type } = error as { status?: unknown; code?: unknown; type?: unknown };
  return Object.assign(copy, { status, code, type });
}

/**
 * Turns whatever an OpenAI call threw into the error to throw: the engine error of
 * {@link classifyOpenAiError}'s failure, built by `providerError` (with a scrubbed `cause`).
 * When `signal` is aborted, the abort wins: its reason (the engine's cancel or timeout) is
 * returned as is, so a cancelled call is never retried or reported as an OpenAI failure. Errors
 * already mapped pass through.
 *
 * @example
 * ```text
 * try {
 *   await client.chat.completions.create(body, { signal });
 * } catch (error) {
 *   throw mapOpenAiError(error, { provider, apiKey, signal });
 * }
 * ```
 * @internal
 */
export function mapOpenAiError(
  error: unknown,
  args: {
    readonly provider: ProviderIdentity;
    readonly apiKey: string | undefined;
    readonly signal?: AbortSignal;
  },
): unknown {
  const { provider, apiKey, signal } = args;
  if (signal?.aborted) return signal.reason ?? error;
  if (
    error instanceof ProviderRejectedError ||
    error instanceof ProviderRateLimitedError ||
    error instanceof ProviderUnavailableError
  ) {
    return error;
  }
  // The SDK only throws this when the caller's signal aborted; without one, keep it as is.
  if (error instanceof APIUserAbortError) return error;
  const { failure, reason, retryAfterMs: after } = classifyOpenAiError(error, apiKey);
  return providerError({
    provider,
    failure,
    ...(reason === undefined ? {} : { reason }),
    ...(after === undefined ? {} : { retryAfterMs: after }),
    cause: safeCause(error, apiKey),
  });
}

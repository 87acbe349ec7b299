import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  RateLimitError,
} from '@runwayml/sdk';
import { EngineError } from '@vidgenie/engine';
import {
  type ProviderIdentity,
  type ProviderRateLimitedError,
  type ProviderRejectedError,
  type ProviderUnavailableError,
  providerError,
  scrubSecret,
} from '../../provider/provider-errors.ts';
import { clipReason as clip } from '../poll/job-helpers.ts';
import { PollDeadlineError } from '../poll/poll-job.ts';

type MappedError = ProviderRejectedError | ProviderRateLimitedError | ProviderUnavailableError;

/**
 * Maps a Runway SDK error (or a poll deadline, or an unreadable answer) onto a provider error:
 * 401 → invalid_key; 429 → rate_limited after `Retry-After-Ms` / `Retry-After`; 400 about
 * credits → quota_exhausted, about moderation → content_rejected, else bad_request (as 403,
 * 404, 409, 422); 5xx and connection failures → unavailable; timeouts → timeout. Engine errors
 * pass through unchanged. Every quoted reason is scrubbed of `apiKey`. @internal
 */
export function mapRunwayError(
  error: unknown,
  provider: ProviderIdentity,
  apiKey: string | undefined,
): Error {
  if (error instanceof EngineError) return error;
  const reasonOf = (text: string) => clip(scrubSecret(text, apiKey));
  if (error instanceof PollDeadlineError) {
    return providerError({
      provider,
      failure: 'timeout',
      reason: 'the video was not ready in time',
      cause: error,
    });
  }
  if (error instanceof APIUserAbortError) {
    return providerError({ provider, failure: 'timeout', reason: 'the request was aborted', cause: error });
  }
  if (error instanceof APIConnectionTimeoutError) {
    return providerError({ provider, failure: 'timeout', cause: error });
  }
  if (error instanceof APIConnectionError) {
    return providerError({ provider, failure: 'unavailable', reason: 'the connection failed', cause: error });
  }
  if (error instanceof APIError && error.status !== undefined) {
    const status = error.status;
    const reason = reasonOf(runwayReason(error.error) ?? `HTTP ${status}`);
    if (status === 401) return providerError({ provider, failure: 'invalid_key', cause: error });
    if (error instanceof RateLimitError || status === 429) {
      const retryAfterMs = retryAfterOf(error.headers);
      return providerError({
        provider,
        failure: 'rate_limited',
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        cause: error,
      });
    }
    if (status >= 500) return providerError({ provider, failure: 'unavailable', reason, cause: error });
    if (status === 408) return providerError({ provider, failure: 'timeout', cause: error });
    if (/\bcredits?\b/i.test(reason) && /enough|insufficient|balance|out of/i.test(reason)) {
      return providerError({ provider, failure: 'quota_exhausted', reason, cause: error });
    }
    if (/moderat|safety|content polic/i.test(reason)) {
      return providerError({ provider, failure: 'content_rejected', reason, cause: error });
    }
    return providerError({ provider, failure: 'bad_request', reason, cause: error });
  }
  if (error instanceof SyntaxError) {
    return providerError({ provider, failure: 'malformed_response', cause: error });
  }
  const text = error instanceof Error ? error.message : String(error);
  return providerError({ provider, failure: 'unavailable', reason: reasonOf(text), cause: error });
}

/**
 * Maps a FAILED task's `failureCode` (SAFETY.INPUT.TEXT, INTERNAL.BAD_OUTPUT.CODE01…) and
 * `failure` text: any SAFETY code → content_rejected; ASSET.* and INPUT_PREPROCESSING.* (bar
 * their INTERNAL codes) → bad_request; INTERNAL.* and unknown codes → unavailable (retried with a
 * new task). @internal
 */
export function mapRunwayFailure(
  task: { readonly failure?: string | undefined; readonly failureCode?: string | undefined },
  provider: ProviderIdentity,
  apiKey: string | undefined,
): MappedError {
  const code = task.failureCode ?? '';
  const text = clip(scrubSecret(task.failure ?? 'the task failed', apiKey));
  const reason = code === '' ? text : `${text} (${code})`;
  if (/(^|\.)SAFETY(\.|$)/.test(code))
    return providerError({ provider, failure: 'content_rejected', reason: text });
  if (/^(ASSET|INPUT_PREPROCESSING)\b/.test(code) && !/INTERNAL/.test(code)) {
    return providerError({ provider, failure: 'bad_request', reason });
  }
  return providerError({ provider, failure: 'unavailable', reason });
}

/** Whether a failed poll may be retried at the next tick: 5xx, 429 and connection failures. @internal */
export function isTransientRunwayError(error: unknown): boolean {
  if (error instanceof APIUserAbortError) return false;
  if (error instanceof APIConnectionError) return true;
  return (
    error instanceof APIError && error.status !== undefined && (error.status >= 500 || error.status === 429)
  );
}

/** The milliseconds a 429 asks to wait: `retry-after-ms`, else `retry-after` (seconds or a date). @internal */
export function retryAfterOf(headers: Headers | undefined): number | undefined {
  const ms = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers?.get('retry-after');
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The human part of a Runway error body: `{ error: "…" }`, `{ error: { message } }`, or issues. */
function runwayReason(body: unknown): string | undefined {
  if (typeof body === 'string') return body;
  if (typeof body !== 'object' || body === null) return undefined;
  const record = body as Record<string, unknown>;
  const error = record.error;
  const main =
    typeof error === 'string'
      ? error
      : typeof error === 'object' &&
          error !== null &&
          typeof (error as { message?: unknown }).message === 'string'
        ? (error as { message: string }).message
        : typeof record.message === 'string'
          ? record.message
          : undefined;
  const issues = Array.isArray(record.issues)
    ? record.issues
        .map((issue) => {
          if (typeof issue !== 'object' || issue === null) return undefined;
          const { message, path } = issue as { message?: unknown; path?: unknown };
          if (typeof message !== 'string') return undefined;
          return Array.isArray(path) && path.length > 0 ? `${path.join('.')}: ${message}` : message;
        })
        .filter((text): text is string => text !== undefined)
    : [];
  const parts = [main, ...issues].filter((text): text is string => text !== undefined && text !== '');
  return parts.length === 0 ? undefined : parts.join('; ');
}

import { ApiError } from '@google/genai';
import { EngineError } from '@vidgenie/engine';
import {
  type ProviderIdentity,
  type ProviderRateLimitedError,
  type ProviderRejectedError,
  type ProviderUnavailableError,
  providerError,
  scrubSecret,
} from '../../provider/provider-errors.ts';
import { clipReason } from '../poll/job-helpers.ts';
import { PollDeadlineError } from '../poll/poll-job.ts';

type MappedError = ProviderRejectedError | ProviderRateLimitedError | ProviderUnavailableError;

/** A `google.rpc.Status`, as in an error body's `error` or a failed operation's `error`. */
export interface RpcStatus {
  /** The HTTP status in error bodies; the google.rpc.Code number in operations. */
  readonly code?: number;
  readonly message?: string;
  /** The canonical code's name, e.g. `RESOURCE_EXHAUSTED` (error bodies only). */
  readonly status?: string;
  readonly details?: readonly unknown[];
}

/** google.rpc.Code numbers → names (an operation's `error.code`). */
const RPC_CODES: readonly string[] = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];
/** The canonical code an HTTP status stands for when a body names none. */
const HTTP_CODES: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};
/** Words of Google's safety refusals (prompt or image blocked by Responsible AI filters). */
const SAFETY_WORDS =
  /safety|responsible ai|usage guidelines|violate|blocked|sensitive|harmful|celebrit|prominent people|\bchild/i;

/**
 * The google.rpc.Status inside an `ApiError` of `@google/genai` (its message is the JSON body),
 * with the HTTP status; only the HTTP status when the message is not such a body.
 */
export function statusOfApiError(error: ApiError): RpcStatus & { readonly httpStatus: number } {
  let body: unknown;
  try {
    body = JSON.parse(error.message);
  } catch {
    body = undefined;
  }
  const inner = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
  const status: RpcStatus = typeof inner === 'object' && inner !== null ? (inner as RpcStatus) : {};
  return { ...status, httpStatus: error.status };
}

/**
 * Maps a google.rpc.Status (an HTTP error body, or a failed operation's `error`) onto a provider
 * error:
 *
 * - `ErrorInfo.reason` `API_KEY_INVALID` (sent with HTTP 400), UNAUTHENTICATED, PERMISSION_DENIED → invalid_key;
 * - RESOURCE_EXHAUSTED → quota_exhausted when a `QuotaFailure` names a daily quota or a zero
 *   limit, else rate_limited after `RetryInfo.retryDelay`;
 * - INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE, NOT_FOUND… → bad_request, or content_rejected
 *   when the message is a safety refusal;
 * - DEADLINE_EXCEEDED → timeout; UNAVAILABLE, INTERNAL, UNKNOWN, ABORTED → unavailable.
 *
 * Quoted messages are scrubbed of `apiKey`. @internal
 */
export function mapRpcStatus(
  status: RpcStatus & { readonly httpStatus?: number },
  provider: ProviderIdentity,
  apiKey: string | undefined,
  cause?: unknown,
): MappedError {
  const name =
    status.status ??
    (status.httpStatus === undefined
      ? RPC_CODES[status.code ?? 2]
      : (HTTP_CODES[status.httpStatus] ?? (status.httpStatus >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT'))) ??
    'UNKNOWN';
  const details = (status.details ?? []).filter(
    (d): d is Record<string, unknown> => typeof d === 'object' && d !== null,
  );
  const typeOf = (d: Record<string, unknown>) => String(d['@type'] ?? '');
  const message = clipReason(scrubSecret(firstLine(status.message ?? ''), apiKey));
  const reason = message === '' ? undefined : message;
  const base = {
    provider,
    ...(reason === undefined ? {} : { reason }),
    ...(cause === undefined ? {} : { cause }),
  };

  const keyProblem = details.some(
    (d) => typeOf(d).endsWith('google.rpc.ErrorInfo') && /^API_KEY_/.test(String(d.reason ?? '')),
  );
  if (keyProblem || name === 'UNAUTHENTICATED' || name === 'PERMISSION_DENIED') {
    return providerError({ ...base, failure: 'invalid_key' });
  }
  switch (name) {
    case 'RESOURCE_EXHAUSTED': {
      const violations = details
        .filter((d) => typeOf(d).endsWith('google.rpc.QuotaFailure'))
        .flatMap((d) => (Array.isArray(d.violations) ? d.violations : []))
        .filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null);
      const exhausted = violations.some(
        (v) =>
          /per_?day|daily/i.test(`${String(v.quotaId ?? '')} ${String(v.quotaMetric ?? '')}`) ||
          String(v.quotaValue ?? '') === '0',
      );
      if (exhausted) return providerError({ ...base, failure: 'quota_exhausted' });
      const retryInfo = details.find((d) => typeOf(d).endsWith('google.rpc.RetryInfo'));
      const retryAfterMs = durationMs(retryInfo?.retryDelay);
      return providerError({
        ...base,
        failure: 'rate_limited',
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      });
    }
    case 'INVALID_ARGUMENT':
    case 'FAILED_PRECONDITION':
    case 'OUT_OF_RANGE':
    case 'NOT_FOUND':
    case 'ALREADY_EXISTS':
    case 'UNIMPLEMENTED':
      return providerError({
        ...base,
        failure: SAFETY_WORDS.test(message) ? 'content_rejected' : 'bad_request',
      });
    case 'DEADLINE_EXCEEDED':
      return providerError({ ...base, failure: 'timeout' });
    default:
      return providerError({ ...base, failure: 'unavailable' });
  }
}

/**
 * Maps whatever a `@google/genai` call threw: `ApiError` through {@link mapRpcStatus}; a poll
 * deadline or a request timeout → timeout; a network failure → unavailable; an unreadable answer
 * → malformed_response. Engine errors pass through. @internal
 */
export function mapGeminiError(
  error: unknown,
  provider: ProviderIdentity,
  apiKey: string | undefined,
): Error {
  if (error instanceof EngineError) return error;
  if (error instanceof ApiError) return mapRpcStatus(statusOfApiError(error), provider, apiKey, error);
  if (error instanceof PollDeadlineError) {
    return providerError({
      provider,
      failure: 'timeout',
      reason: 'the video was not ready in time',
      cause: error,
    });
  }
  if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) {
    // The SDK aborts a request at its `timeout` with a bare AbortError.
    return providerError({ provider, failure: 'timeout', cause: error });
  }
  if (error instanceof SyntaxError)
    return providerError({ provider, failure: 'malformed_response', cause: error });
  const text = error instanceof Error ? error.message : String(error);
  return providerError({
    provider,
    failure: 'unavailable',
    reason: clipReason(scrubSecret(text, apiKey)),
    cause: error,
  });
}

/** Whether a failed poll may be retried at the next tick: 429, 5xx and network failures. @internal */
export function isTransientGeminiError(error: unknown): boolean {
  if (error instanceof ApiError) return error.status === 429 || error.status >= 500;
  return error instanceof TypeError; // fetch's network failures
}

/** A protobuf Duration in ms: `"37s"`, `"1.5s"`, or `{ seconds, nanos }`. */
export function durationMs(value: unknown): number | undefined {
  if (typeof value === 'string') {
    const match = /^\s*(\d+(?:\.\d+)?)s\s*$/.exec(value);
    return match === null ? undefined : Math.round(Number(match[1]) * 1000);
  }
  if (typeof value === 'object' && value !== null) {
    const { seconds, nanos } = value as { seconds?: unknown; nanos?: unknown };
    const s = Number(seconds ?? 0);
    const n = Number(nanos ?? 0);
    return Number.isFinite(s) && Number.isFinite(n) ? Math.round(s * 1000 + n / 1e6) : undefined;
  }
  return undefined;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}

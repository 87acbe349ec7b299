import type { EngineErrorCode } from '@vidgenie/engine';

/**
 * Every error code the API answers with, mapped to its HTTP status. One exhaustive map: a new code
 * without a status does not compile.
 */
export const API_ERROR_STATUS = {
  /** The request body, query or params did not validate; `details.issues` lists each problem. */
  VALIDATION_FAILED: 400,
  /** The workflow graph did not validate; `details.issues` lists each problem with node ids. */
  GRAPH_INVALID: 400,
  /** No valid session cookie or Bearer token. */
  UNAUTHENTICATED: 401,
  /** Wrong email or password. */
  INVALID_CREDENTIALS: 401,
  /** Not enough credits: `details.required` and `details.available`. */
  INSUFFICIENT_CREDITS: 402,
  /** Authenticated, but not allowed (e.g. an admin route). */
  FORBIDDEN: 403,
  /** A cookie-authenticated write came from another origin. */
  CSRF_REJECTED: 403,
  /** No such resource, or not yours (never says which). */
  NOT_FOUND: 404,
  /** The resource already exists (e.g. an email already registered). */
  CONFLICT: 409,
  /** The `Idempotency-Key` was used before with another request body. */
  IDEMPOTENCY_CONFLICT: 409,
  /** The request body is larger than the limit. */
  PAYLOAD_TOO_LARGE: 413,
  /** The body is not JSON (or not the declared type). */
  UNSUPPORTED_MEDIA_TYPE: 415,
  /** A `Range` header outside the file; the `Content-Range` header gives the file's size. */
  RANGE_NOT_SATISFIABLE: 416,
  /** Too many requests: retry after `Retry-After` seconds. */
  RATE_LIMITED: 429,
  /**
   * The account's daily credit cap would be passed: `details.required`, `available`, `cap`,
   * `usedToday`, `resetsAt`; `Retry-After` until midnight UTC. 429, not 402: more credits would not help.
   */
  DAILY_CAP_REACHED: 429,
  /** A provider could not be reached to test a key. */
  PROVIDER_UNAVAILABLE: 502,
  /** The server is misconfigured for this request (e.g. the vault has no key). */
  SERVICE_UNAVAILABLE: 503,
  /** A bug. The message is generic; details are in the server log under the request id. */
  INTERNAL: 500,
} as const satisfies Record<string, number>;

/** The union of API error codes. */
export type ApiErrorCode = keyof typeof API_ERROR_STATUS;

/**
 * How each engine error surfaces through the API. Exhaustive: a new engine code must be mapped here.
 */
export const ENGINE_ERROR_API_CODE: Readonly<Record<EngineErrorCode, ApiErrorCode>> = {
  NODE_FAILED: 'INTERNAL',
  NON_RETRYABLE: 'INTERNAL',
  RETRY_AFTER: 'RATE_LIMITED',
  TIMEOUT: 'PROVIDER_UNAVAILABLE',
  CANCELLED: 'CONFLICT',
  SCHEMA_VALIDATION: 'VALIDATION_FAILED',
  GRAPH_INVALID: 'GRAPH_INVALID',
  INSUFFICIENT_CREDITS: 'INSUFFICIENT_CREDITS',
  MISSING_SECRET: 'VALIDATION_FAILED',
  DUPLICATE_NODE_TYPE: 'INTERNAL',
  UNKNOWN_NODE_TYPE: 'GRAPH_INVALID',
  STALE_FENCE: 'CONFLICT',
  RUN_NOT_FOUND: 'NOT_FOUND',
  RUN_EXISTS: 'CONFLICT',
  CHECKPOINT_VERSION: 'INTERNAL',
  INTERNAL: 'INTERNAL',
};

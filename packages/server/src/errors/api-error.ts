import { API_ERROR_STATUS, type ApiErrorCode } from './api-error-code.ts';

/** The one JSON error shape the API answers with. */
export interface ApiErrorBody {
  readonly error: {
    readonly code: ApiErrorCode;
    readonly message: string;
    readonly details?: Readonly<Record<string, unknown>>;
  };
}

/**
 * An error the API reports to the caller as is: its code picks the HTTP status, its message is
 * written for the person reading it (what to fix), its details are machine-readable. Never put a
 * secret in any of them.
 *
 * @example
 * ```ts
 * import { ApiError } from '@vidgenie/server';
 * throw new ApiError('NOT_FOUND', 'No provider key for "openai": add one in Settings.');
 * ```
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: ApiErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  /** Extra response headers (e.g. `Retry-After`). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: ApiErrorCode,
    message: string,
    options: {
      readonly details?: Readonly<Record<string, unknown>>;
      readonly headers?: Readonly<Record<string, string>>;
      readonly cause?: unknown;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
    this.headers = options.headers ?? {};
  }

  /** The HTTP status for this error's code. */
  get status(): (typeof API_ERROR_STATUS)[ApiErrorCode] {
    return API_ERROR_STATUS[this.code];
  }

  /** The response body. */
  toBody(): ApiErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

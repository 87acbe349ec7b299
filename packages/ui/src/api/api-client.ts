/** One problem of a `VALIDATION_FAILED` answer. */
export interface ApiIssue {
  readonly path: string;
  readonly message: string;
}

/** An error answered by the API (`{ error: { code, message, details } }`), or a network failure. */
export class ApiRequestError extends Error {
  override readonly name = 'ApiRequestError';
  readonly status: number;
  readonly code: string;
  readonly issues: readonly ApiIssue[];
  readonly details: Readonly<Record<string, unknown>>;
  constructor(args: {
    status: number;
    code: string;
    message: string;
    details?: Readonly<Record<string, unknown>>;
  }) {
    super(args.message);
    this.status = args.status;
    this.code = args.code;
    this.details = args.details ?? {};
    this.issues = readIssues(this.details.issues);
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function readIssues(value: unknown): ApiIssue[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((issue: unknown) =>
    isRecord(issue) && typeof issue.message === 'string'
      ? [{ path: typeof issue.path === 'string' ? issue.path : '', message: issue.message }]
      : [],
  );
}

async function errorOf(response: Response): Promise<ApiRequestError> {
  const body: unknown = await response.json().catch(() => undefined);
  const error = isRecord(body) && isRecord(body.error) ? body.error : undefined;
  if (error !== undefined && typeof error.code === 'string' && typeof error.message === 'string') {
    return new ApiRequestError({
      status: response.status,
      code: error.code,
      message: error.message,
      ...(isRecord(error.details) ? { details: error.details } : {}),
    });
  }
  return new ApiRequestError({
    status: response.status,
    code: 'HTTP_ERROR',
    message: `The server answered ${response.status}. Try again in a moment.`,
  });
}

/**
 * Calls the VidGenie API on the page's own origin with the session cookie. Resolves with the JSON
 * body typed as `T` (the shapes in `api-types.ts` mirror the OpenAPI document); throws
 * {@link ApiRequestError} with the API's code and plain-words message otherwise.
 */
export async function api<T>(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: `/api/${string}`,
  options: { readonly body?: unknown; readonly headers?: Readonly<Record<string, string>> } = {},
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: {
        accept: 'application/json',
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
  } catch {
    throw new ApiRequestError({
      status: 0,
      code: 'NETWORK',
      message: 'The server could not be reached. Check your connection and try again.',
    });
  }
  if (!response.ok) throw await errorOf(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** A message for any thrown value, in plain words. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiRequestError) return error.message;
  return 'Something went wrong. Try again in a moment.';
}

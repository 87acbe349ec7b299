import type {
  ApiMethod,
  PathParamsOf,
  PathWith,
  QueryOf,
  RequestBodyOf,
  ResponseOf,
} from './operation-types.ts';

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

/** The headers of a call, besides `accept` and `content-type`. */
type CallHeaders = Readonly<Record<string, string>>;

/** Sends one call and reads its JSON answer (`undefined` for 204), or throws {@link ApiRequestError}. */
async function send(
  method: string,
  url: string,
  body: unknown,
  headers: CallHeaders | undefined,
): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      credentials: 'same-origin',
      headers: {
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiRequestError({
      status: 0,
      code: 'NETWORK',
      message: 'The server could not be reached. Check your connection and try again.',
    });
  }
  if (!response.ok) throw await errorOf(response);
  if (response.status === 204) return undefined;
  return response.json();
}

/**
 * The option `K` of a call: `{ K: T }`, or `{ K?: T }` when not `Required`; when `T` is `never` (the
 * operation has no such part), only `{ K?: never }`.
 */
type OptionOf<K extends string, T, Required extends boolean> = [T] extends [never]
  ? { readonly [_ in K]?: never }
  : Required extends true
    ? { readonly [_ in K]: T }
    : { readonly [_ in K]?: T };

/** What a call of `method path` takes: its path parameters, query and body when it has them. */
export type RequestOptions<P extends PathWith<M>, M extends ApiMethod> = {
  readonly headers?: CallHeaders;
} & OptionOf<'params', PathParamsOf<P, M>, true> &
  OptionOf<'query', QueryOf<P, M>, false> &
  OptionOf<'body', RequestBodyOf<P, M>, true>;

/**
 * The URL of `path` with its `{name}` parameters filled in (encoded) and the defined query values
 * appended (`null` and `undefined` ones left out); throws when a parameter is missing.
 */
export function urlOf(
  path: string,
  params: Readonly<Record<string, string>> = {},
  query: Readonly<Record<string, string | number | boolean | null | undefined>> = {},
): string {
  const filled = path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`Missing path parameter ${name} of ${path}`);
    return encodeURIComponent(value);
  });
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null) search.set(name, String(value));
  }
  const text = search.toString();
  return text === '' ? filled : `${filled}?${text}`;
}

/**
 * Calls `method path` of the API, typed by the OpenAPI document: `path` is a path of the document
 * as written there (`/api/contents/{contentId}`), `options` carries its path parameters, query and
 * body, and the answer is the operation's success body. Throws {@link ApiRequestError} otherwise.
 *
 * @example
 * const page = await request('get', '/api/contents', { query: { limit: 20 } });
 */
export async function request<M extends ApiMethod, P extends PathWith<M>>(
  method: M,
  path: P,
  ...[options]: Partial<RequestOptions<P, M>> extends RequestOptions<P, M>
    ? [RequestOptions<P, M>?]
    : [RequestOptions<P, M>]
): Promise<ResponseOf<P, M>> {
  const url = urlOf(path, options?.params, options?.query);
  const body: unknown = await send(method.toUpperCase(), url, options?.body, options?.headers);
  return body as ResponseOf<P, M>;
}

/** A message for any thrown value, in plain words. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiRequestError) return error.message;
  return 'Something went wrong. Try again in a moment.';
}

/**
 * One error of a `cause` chain as {@link errorCauses} describes it for a log line: its class and
 * the codes that tell an operator what went wrong (`ECONNRESET`, `UND_ERR_CONNECT_TIMEOUT`, an
 * HTTP status), and a message only where its wording is known not to carry a request's data.
 * @internal
 */
export interface ErrorCause {
  readonly name: string;
  readonly code?: string;
  readonly syscall?: string;
  readonly status?: number;
  /** Only for Node's system errors and undici's errors, whose messages name syscalls and addresses. */
  readonly message?: string;
  /** The errors an `AggregateError` gathered (e.g. one per address tried), at most 3. */
  readonly errors?: readonly ErrorCause[];
}

/** How deep a chain is followed. */
const MAX_DEPTH = 6;
const MAX_AGGREGATED = 3;

/**
 * The `cause` chain below `error` (not `error` itself), outermost first, for logs: why a provider
 * call failed under the creator-facing message. Messages of other errors are left out: an SDK's
 * error may quote a request, and with it a key.
 *
 * For example `[{ name: 'TypeError' }, { name: 'Error', code: 'ECONNRESET', syscall: 'read', message:
 * 'read ECONNRESET' }]` under OpenAI's `APIConnectionError`. @internal
 */
export function errorCauses(error: unknown): ErrorCause[] {
  const causes: ErrorCause[] = [];
  const seen = new Set<unknown>([error]);
  let current = causeOf(error);
  while (current !== undefined && !seen.has(current) && causes.length < MAX_DEPTH) {
    seen.add(current);
    causes.push(describe(current, 0));
    current = causeOf(current);
  }
  return causes;
}

function causeOf(value: unknown): unknown {
  return typeof value === 'object' && value !== null && 'cause' in value ? value.cause : undefined;
}

function describe(value: unknown, level: number): ErrorCause {
  if (typeof value !== 'object' || value === null) return { name: typeof value };
  const record = value as Record<string, unknown>;
  const name = value instanceof Error ? value.name : (value.constructor?.name ?? 'Object');
  const code = typeof record.code === 'string' ? record.code : undefined;
  const syscall = typeof record.syscall === 'string' ? record.syscall : undefined;
  const status = typeof record.status === 'number' ? record.status : undefined;
  const safeMessage =
    value instanceof Error && (syscall !== undefined || code?.startsWith('UND_ERR_') === true)
      ? value.message
      : undefined;
  const inner =
    level === 0 && Array.isArray(record.errors)
      ? record.errors.slice(0, MAX_AGGREGATED).map((item) => describe(item, level + 1))
      : undefined;
  return {
    name,
    ...(code === undefined ? {} : { code }),
    ...(syscall === undefined ? {} : { syscall }),
    ...(status === undefined ? {} : { status }),
    ...(safeMessage === undefined ? {} : { message: safeMessage }),
    ...(inner === undefined || inner.length === 0 ? {} : { errors: inner }),
  };
}

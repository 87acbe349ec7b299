/** SQLSTATEs a transaction may simply be retried after: serialization failure and deadlock. */
const TRANSIENT_STATES: ReadonlySet<string> = new Set(['40001', '40P01']);

/** The SQLSTATE of a database error (`pg` and PGlite both set `code`), if any. @internal */
export function sqlStateOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.length === 5 ? code : undefined;
}

/**
 * Runs `attempt` again when it fails with a serialization failure (40001) or a deadlock (40P01),
 * and with a unique violation (23505) when `onUniqueViolation` is set: the ledger's statements use
 * unique keys as their idempotency guard, so a concurrent duplicate loses with 23505 and the retry
 * finds the winner's row. Bounded: after `attempts` tries the last error is thrown.
 * @internal
 */
export async function retryTransient<T>(
  attempt: () => Promise<T>,
  options: { readonly onUniqueViolation?: boolean; readonly attempts?: number } = {},
): Promise<T> {
  const attempts = options.attempts ?? 5;
  for (let tried = 1; ; tried++) {
    try {
      return await attempt();
    } catch (error) {
      const state = sqlStateOf(error);
      const retryable =
        state !== undefined &&
        (TRANSIENT_STATES.has(state) || (state === '23505' && options.onUniqueViolation === true));
      if (!retryable || tried >= attempts) throw error;
    }
  }
}

/**
 * How a failed node attempt is retried: exponential backoff with full jitter, capped.
 * `RetryAfterError` overrides the delay; `NonRetryableError` stops at once.
 */
export interface RetryPolicy {
  /** Total attempts, including the first. `1` disables retries. */
  readonly maxAttempts: number;
  /** The delay before the second attempt, in ms, before jitter. */
  readonly initialDelayMs: number;
  /** The largest delay between attempts, in ms (also caps `RetryAfterError`). */
  readonly maxDelayMs: number;
  /** The factor applied to the delay after each attempt. */
  readonly factor: number;
  /** Fraction of the delay that is randomised, in [0, 1]. `0` gives exact delays. */
  readonly jitter: number;
}

/** The defaults: 3 attempts, 1 s then 2 s, 50% jitter, delays capped at 5 minutes. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxAttempts: 3,
  initialDelayMs: 1_000,
  maxDelayMs: 300_000,
  factor: 2,
  jitter: 0.5,
});

/**
 * The delay before attempt `attempt + 1`, given the policy and a random number in [0, 1).
 *
 * @example
 * ```ts
 * import { backoffDelay, DEFAULT_RETRY_POLICY } from '@vidgenie/engine';
 * backoffDelay({ policy: { ...DEFAULT_RETRY_POLICY, jitter: 0 }, attempt: 2, random: 0.5 }); // 2000
 * ```
 */
export function backoffDelay(args: {
  readonly policy: RetryPolicy;
  readonly attempt: number;
  readonly random: number;
}) {
  const { policy, attempt, random } = args;
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** Math.max(0, attempt - 1));
  const jitter = Math.min(1, Math.max(0, policy.jitter));
  return Math.round(base * (1 - jitter) + base * jitter * random);
}

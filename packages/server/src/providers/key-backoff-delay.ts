/** How the shared back-off of a provider key grows with consecutive 429s. */
export interface KeyBackoffPolicy {
  /** The back-off of the first strike when the provider asks for less, in ms. */
  readonly initialMs: number;
  /** The factor applied for each further strike. */
  readonly factor: number;
  /** The longest back-off before jitter, in ms; a longer Retry-After is cut to it. */
  readonly maxMs: number;
  /** The fraction added at random, in [0, 1]: a back-off lasts up to `(1 + jitter)` times its base. */
  readonly jitter: number;
}

/**
 * The defaults: 1 s, doubling, capped at 5 minutes (the engine's own retry cap), plus up to 20%.
 */
export const DEFAULT_KEY_BACKOFF_POLICY: KeyBackoffPolicy = Object.freeze({
  initialMs: 1_000,
  factor: 2,
  maxMs: 300_000,
  jitter: 0.2,
});

/**
 * The back-off after the `strikes`-th consecutive 429 of a key: `initialMs × factor^(strikes − 1)`,
 * never less than the provider's Retry-After, at most `maxMs`, then lengthened by up to `jitter`
 * of itself (`random` in [0, 1)), so that keys backed off together do not all come back at once.
 *
 * @example
 * ```ts
 * import { DEFAULT_KEY_BACKOFF_POLICY, keyBackoffDelay } from '@vidgenie/server';
 * keyBackoffDelay({ policy: DEFAULT_KEY_BACKOFF_POLICY, strikes: 3, retryAfterMs: 0, random: 0 }); // 4000
 * ```
 */
export function keyBackoffDelay(args: {
  readonly policy: KeyBackoffPolicy;
  readonly strikes: number;
  readonly retryAfterMs: number;
  readonly random: number;
}): number {
  const { policy, strikes, retryAfterMs, random } = args;
  const grown = policy.initialMs * policy.factor ** Math.max(0, strikes - 1);
  const base = Math.min(policy.maxMs, Math.max(Math.max(0, retryAfterMs), grown));
  const jitter = Math.min(1, Math.max(0, policy.jitter));
  return Math.round(base * (1 + jitter * Math.min(1, Math.max(0, random))));
}

import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { ApiError } from '../errors/api-error.ts';

/** Each limit: how many requests per window, per key (an IP, an email or a user id). */
export const RATE_LIMITS = {
  /** Sign-in attempts per client IP. */
  loginPerIp: { points: 20, durationSeconds: 15 * 60 },
  /** Sign-in attempts per email, whatever the IP (credential stuffing on one account). */
  loginPerEmail: { points: 10, durationSeconds: 15 * 60 },
  /** Accounts created per client IP. */
  signupPerIp: { points: 5, durationSeconds: 60 * 60 },
  /** Provider key tests per user (each is a call to the provider). */
  keyTestPerUser: { points: 20, durationSeconds: 60 * 60 },
  /** API requests per signed-in user. */
  requestsPerUser: { points: 600, durationSeconds: 60 },
  /** API requests per client IP without a user. */
  requestsPerIp: { points: 300, durationSeconds: 60 },
} as const satisfies Record<string, { points: number; durationSeconds: number }>;

/** The name of a rate limit. */
export type RateLimitName = keyof typeof RATE_LIMITS;

/** Rate limiters, in memory (per process). */
export interface RateLimits {
  /** Counts one request against a limit; throws 429 `RATE_LIMITED` with `Retry-After` when over. */
  consume(name: RateLimitName, key: string): Promise<void>;
  /** Forgets a key's count (e.g. the email's failures after a successful sign-in). */
  reset(name: RateLimitName, key: string): Promise<void>;
}

/**
 * Creates the limiters (rate-limiter-flexible's memory store). `scale` multiplies every limit
 * (tests and trusted deployments raise them).
 * @internal
 */
export function createRateLimits(options: { readonly scale?: number } = {}): RateLimits {
  const scale = options.scale ?? 1;
  const limiters = Object.fromEntries(
    Object.entries(RATE_LIMITS).map(([name, limit]) => [
      name,
      new RateLimiterMemory({
        keyPrefix: name,
        points: Math.max(1, Math.round(limit.points * scale)),
        duration: limit.durationSeconds,
      }),
    ]),
  ) as Record<RateLimitName, RateLimiterMemory>;
  return {
    async consume(name, key) {
      try {
        await limiters[name].consume(key);
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) throw error;
        const retryAfter = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
        throw new ApiError('RATE_LIMITED', `Too many requests: try again in ${retryAfter} s.`, {
          details: { retryAfterSeconds: retryAfter },
          headers: { 'Retry-After': String(retryAfter) },
        });
      }
    },
    async reset(name, key) {
      await limiters[name].delete(key);
    },
  };
}

import { describe, expect, it } from 'vitest';
import { DEFAULT_KEY_BACKOFF_POLICY, keyBackoffDelay } from './key-backoff-delay.ts';
import { providerKeyHash } from './provider-key-hash.ts';

describe('keyBackoffDelay', () => {
  const policy = { ...DEFAULT_KEY_BACKOFF_POLICY, jitter: 0 };
  it('doubles with each strike from 1 s, up to 5 minutes', () => {
    const delays = [1, 2, 3, 4, 9, 10, 30].map((strikes) =>
      keyBackoffDelay({ policy, strikes, retryAfterMs: 0, random: 0.5 }),
    );
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 256_000, 300_000, 300_000]);
  });

  it('is never shorter than Retry-After, which is cut to the cap', () => {
    expect(keyBackoffDelay({ policy, strikes: 1, retryAfterMs: 30_000, random: 0 })).toBe(30_000);
    expect(keyBackoffDelay({ policy, strikes: 6, retryAfterMs: 30_000, random: 0 })).toBe(32_000);
    expect(keyBackoffDelay({ policy, strikes: 1, retryAfterMs: 3_600_000, random: 0 })).toBe(300_000);
    expect(keyBackoffDelay({ policy, strikes: 1, retryAfterMs: -5, random: 0 })).toBe(1_000);
  });

  it('adds up to `jitter` of the delay, never less than the base', () => {
    const jittered = { ...policy, jitter: 0.2 };
    expect(keyBackoffDelay({ policy: jittered, strikes: 1, retryAfterMs: 5_000, random: 0 })).toBe(5_000);
    expect(keyBackoffDelay({ policy: jittered, strikes: 1, retryAfterMs: 5_000, random: 0.5 })).toBe(5_500);
    expect(keyBackoffDelay({ policy: jittered, strikes: 20, retryAfterMs: 0, random: 0.999_999 })).toBe(
      360_000,
    );
  });
});

describe('providerKeyHash', () => {
  it('is a SHA-256 in hex, per provider and key, that does not contain the key', () => {
    const hash = providerKeyHash('openai-text', 'sk-abc123');
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).toBe(providerKeyHash('openai-text', 'sk-abc123'));
    expect(hash).not.toBe(providerKeyHash('openai-image', 'sk-abc123'));
    expect(hash).not.toBe(providerKeyHash('openai-text', 'sk-abc124'));
    // The separator keeps (id, key) pairs apart.
    expect(providerKeyHash('a', 'bc')).not.toBe(providerKeyHash('ab', 'c'));
  });
});

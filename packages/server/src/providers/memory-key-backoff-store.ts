import type { KeyBackoffStore } from './key-backoff-store.ts';

/** Options of {@link createMemoryKeyBackoffStore}. */
export interface MemoryKeyBackoffStoreOptions {
  /** The clock, in ms (tests move it). Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * A {@link KeyBackoffStore} in this process's memory: the default, for embedded mode (one process).
 * Holds one small entry per key hash that has had a 429 and no success since.
 *
 * @example
 * ```ts
 * import { createMemoryKeyBackoffStore } from '@vidgenie/server';
 * const store = createMemoryKeyBackoffStore();
 * await store.strike('0'.repeat(64), () => 1_000);
 * console.log((await store.read('0'.repeat(64))).strikes); // 1
 * ```
 */
export function createMemoryKeyBackoffStore(options: MemoryKeyBackoffStoreOptions = {}): KeyBackoffStore {
  const now = options.now ?? Date.now;
  const entries = new Map<string, { until: number; strikes: number }>();
  const stateOf = (entry: { until: number; strikes: number } | undefined) => ({
    waitMs: entry === undefined ? 0 : Math.max(0, entry.until - now()),
    strikes: entry?.strikes ?? 0,
  });
  return {
    read: async (keyHash) => stateOf(entries.get(keyHash)),
    async strike(keyHash, delayFor) {
      const at = now();
      const entry = entries.get(keyHash) ?? { until: at, strikes: 0 };
      const strikes = entry.until <= at ? entry.strikes + 1 : entry.strikes;
      const next = { strikes, until: Math.max(entry.until, at + Math.max(0, delayFor(strikes))) };
      entries.set(keyHash, next);
      return stateOf(next);
    },
    async clear(keyHash) {
      const entry = entries.get(keyHash);
      if (entry !== undefined && entry.until <= now()) entries.delete(keyHash);
    },
  };
}

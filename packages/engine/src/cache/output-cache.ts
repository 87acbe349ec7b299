/**
 * An optional store of node outputs keyed by a hash of (node type, version, config, inputs). A hit
 * skips the node: it costs nothing and is reported as a saving. Values are plain JSON.
 */
export interface OutputCache {
  get(args: { readonly key: string }): Promise<unknown>;
  set(args: { readonly key: string; readonly value: unknown }): Promise<void>;
}

/**
 * An in-memory output cache that keeps the most recently used entries.
 *
 * @example
 * ```ts
 * import { createMemoryOutputCache } from '@vidgenie/engine';
 * const cache = createMemoryOutputCache({ maxEntries: 1_000 });
 * ```
 */
export function createMemoryOutputCache(options: { readonly maxEntries?: number } = {}): OutputCache {
  const max = options.maxEntries ?? 10_000;
  const entries = new Map<string, unknown>();
  return {
    async get({ key }) {
      if (!entries.has(key)) return undefined;
      const value = entries.get(key);
      entries.delete(key);
      entries.set(key, value);
      return structuredClone(value);
    },
    async set({ key, value }) {
      entries.delete(key);
      entries.set(key, structuredClone(value));
      if (entries.size > max) entries.delete(entries.keys().next().value as string);
    },
  };
}

import stringify from 'safe-stable-stringify';

/**
 * The output-cache key of a node: a SHA-256 (hex) over a canonical JSON of its type, version,
 * config and inputs, so the same work always has the same key whatever the key order.
 *
 * @example
 * ```ts
 * import { cacheKeyOf } from '@vidgenie/engine';
 * const key = await cacheKeyOf({ type: 'image', version: 1, config: { size: 'small' }, input: { prompt: 'a cat' } });
 * ```
 */
export async function cacheKeyOf(args: {
  readonly type: string;
  readonly version: number;
  readonly config: unknown;
  readonly input: unknown;
}): Promise<string> {
  const text = stringify([args.type, args.version, args.config, args.input]) ?? '';
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

import type { ProviderKind } from '@vidgenie/nodes';
import type { ProviderKeyConcurrency } from './limit-provider-keys.ts';

const KINDS: readonly string[] = ['text', 'image', 'video'] satisfies readonly ProviderKind[];

/** What `VIDGENIE_PROVIDER_KEY_CONCURRENCY` accepts: `name=number` entries, comma-separated. */
export const PROVIDER_KEY_CONCURRENCY_PATTERN =
  /^\s*[a-z0-9][a-z0-9-]*\s*=\s*\d+\s*(,\s*[a-z0-9][a-z0-9-]*\s*=\s*\d+\s*)*$/;

/**
 * Reads `VIDGENIE_PROVIDER_KEY_CONCURRENCY`: comma-separated `name=number` entries, where a name is
 * a provider kind (`text`, `image`, `video`) or a provider id (which wins over its kind). Throws a
 * `RangeError` for anything else, or a number below 1.
 *
 * @example
 * ```ts
 * import { parseProviderKeyConcurrency } from '@vidgenie/server';
 * parseProviderKeyConcurrency('video=2,openai-image=1');
 * // { byKind: { video: 2 }, byProvider: { 'openai-image': 1 } }
 * ```
 */
export function parseProviderKeyConcurrency(text: string): ProviderKeyConcurrency {
  if (!PROVIDER_KEY_CONCURRENCY_PATTERN.test(text)) {
    throw new RangeError('Provider key concurrency must look like "text=8,video=2,openai-image=1".');
  }
  const byKind: Partial<Record<ProviderKind, number>> = {};
  const byProvider: Record<string, number> = {};
  for (const entry of text.split(',')) {
    const [name = '', value = ''] = entry.split('=').map((part) => part.trim());
    const limit = Number(value);
    if (limit < 1) throw new RangeError(`Provider key concurrency for "${name}" must be at least 1.`);
    if (KINDS.includes(name)) byKind[name as ProviderKind] = limit;
    else byProvider[name] = limit;
  }
  return { byKind, byProvider };
}

import type { z } from 'zod';
import type { ImageProvider, Provider, TextProvider, VideoProvider } from './provider-types.ts';

/**
 * Defines a provider: a text, image or video model behind one small interface. Nodes choose a
 * provider by `id` from their config; the vendor SDK stays inside the provider's own folder.
 *
 * @example
 * ```ts
 * import { defineProvider } from '@vidgenie/nodes';
 * import { z } from 'zod';
 * export const echo = defineProvider({
 *   id: 'echo', displayName: 'Echo (local)', kind: 'text', local: true,
 *   config: z.object({}),
 *   price: () => 1,
 *   generate: async ({ prompt }) => ({ text: prompt, tokensUsed: 0, model: 'echo' }),
 * });
 * ```
 */
export function defineProvider<TConfig extends z.ZodObject>(
  provider: TextProvider<TConfig>,
): TextProvider<TConfig>;
export function defineProvider<TConfig extends z.ZodObject>(
  provider: ImageProvider<TConfig>,
): ImageProvider<TConfig>;
export function defineProvider<TConfig extends z.ZodObject>(
  provider: VideoProvider<TConfig>,
): VideoProvider<TConfig>;
export function defineProvider(provider: Provider): Provider {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(provider.id)) {
    throw new TypeError(`Provider id "${provider.id}" must be lowercase letters, digits and dashes.`);
  }
  if (!provider.local && provider.key === undefined) {
    throw new TypeError(`Provider "${provider.id}" is not local, so it must declare the key it needs.`);
  }
  return Object.freeze({ ...provider });
}

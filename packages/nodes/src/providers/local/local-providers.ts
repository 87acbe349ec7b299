import type { Provider } from '../../provider/provider-types.ts';
import { kenBurnsProvider } from './ken-burns-provider.ts';
import { localImageProvider } from './local-image-provider.ts';
import { localTextProvider } from './local-text-provider.ts';

/**
 * The three offline providers, in the order text, image, video: `local-text` (a rule-based prompt
 * enhancer), `local-image` (a procedural PNG renderer) and `local-video` (a Ken Burns renderer on
 * the bundled ffmpeg). They need no key and no network, so the whole template runs offline.
 *
 * @example
 * ```ts
 * import { createProviderRegistry, localProviders } from '@vidgenie/nodes';
 * const providers = createProviderRegistry(localProviders());
 * providers.list().map((p) => p.id); // ['local-text', 'local-image', 'local-video']
 * ```
 */
export function localProviders(): readonly Provider[] {
  return [localTextProvider, localImageProvider, kenBurnsProvider];
}

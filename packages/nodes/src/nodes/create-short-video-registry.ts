import { createNodeRegistry } from '@vidgenie/engine';
import type { ProviderRegistry } from '../provider/provider-registry.ts';
import { createEnhanceNode } from './enhance-node.ts';
import { createImageNode } from './image-node.ts';
import { outputNode } from './output-node.ts';
import { promptNode } from './prompt-node.ts';
import { createVideoNode } from './video-node.ts';

/**
 * The engine registry of the five short-video nodes, bound to a provider registry.
 *
 * @example
 * ```ts
 * import { createProviderRegistry, createShortVideoRegistry, localProviders } from '@vidgenie/nodes';
 * const registry = createShortVideoRegistry({ providers: createProviderRegistry(localProviders()) });
 * registry.types; // ['prompt', 'enhance', 'image', 'video', 'output']
 * ```
 */
export function createShortVideoRegistry(args: { readonly providers: ProviderRegistry }) {
  return createNodeRegistry([
    promptNode,
    createEnhanceNode(args),
    createImageNode(args),
    createVideoNode(args),
    outputNode,
  ]);
}

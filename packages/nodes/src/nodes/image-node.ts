import { defineNode } from '@vidgenie/engine';
import type { ProviderRegistry } from '../provider/provider-registry.ts';
import { imageSpec } from './image-spec.ts';
import { mediaServices } from './node-services.ts';
import { apiKeyFor, providerField, requiredKeys } from './provider-field.ts';

/** File extensions of the image types providers return. */
const EXTENSIONS: Readonly<Record<string, string>> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
};

/**
 * Makes the `image` node: an image provider draws the prompt at a size and aspect ratio; the
 * bytes go to the blob store and the output is a reference.
 *
 * @example
 * ```ts
 * import { createImageNode, createProviderRegistry, localProviders } from '@vidgenie/nodes';
 * const image = createImageNode({ providers: createProviderRegistry(localProviders()) });
 * ```
 */
export function createImageNode(args: { readonly providers: ProviderRegistry }) {
  const { providers } = args;
  return defineNode({
    ...imageSpec(providerField(providers, 'image')),
    services: mediaServices,
    estimateCost: ({ config }) => providers.get('image', config.provider).price({ size: config.size }),
    requiredSecrets: ({ config }) => requiredKeys(providers, 'image', config.provider),
    concurrencyKey: ({ config }) => config.provider,
    async run({ input, config, signal, progress, secrets, services, runId, nodeId }) {
      const provider = providers.get('image', config.provider);
      progress(0, `Drawing with ${provider.displayName}`);
      const image = await provider.generate(
        { prompt: input.prompt, size: config.size, aspectRatio: config.aspectRatio },
        {
          config: provider.config.parse(config.options),
          apiKey: await apiKeyFor(provider, secrets),
          signal,
          progress,
        },
      );
      const key = `runs/${runId}/${nodeId}.${EXTENSIONS[image.mimeType] ?? 'bin'}`;
      const stored = await services.blobs.put({ key, body: image.bytes, mimeType: image.mimeType });
      progress(1);
      return { image: { ...stored, width: image.width, height: image.height } };
    },
  });
}

import { defineNode } from '@vidgenie/engine';
import { z } from 'zod';
import { ImageRef, TextValue } from '../media/media-ref.ts';
import type { ProviderRegistry } from '../provider/provider-registry.ts';
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
    type: 'image',
    version: 1,
    title: 'Image',
    description: 'Generates the first frame from the prompt.',
    input: z.object({ prompt: TextValue }),
    output: z.object({ image: ImageRef }),
    config: z.object({
      provider: providerField(providers, 'image'),
      size: z.enum(['small', 'medium', 'large']).default('medium'),
      aspectRatio: z.enum(['9:16', '1:1', '16:9']).default('9:16'),
      options: z.record(z.string(), z.unknown()).default({}),
    }),
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

import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { defineNode } from '@vidgenie/engine';
import type { ProviderRegistry } from '../provider/provider-registry.ts';
import { mediaServices } from './node-services.ts';
import { apiKeyFor, providerField, requiredKeys } from './provider-field.ts';
import { generateInSegments } from './video-segments.ts';
import { videoSpec } from './video-spec.ts';

/**
 * Makes the `video` node: a video provider animates the image for 8, 15, 30 or 60 seconds; the
 * file goes to the blob store and the output is a reference with its duration and resolution.
 * Videos longer than the provider's longest clip are chained from clips (see `generateInSegments`).
 *
 * @example
 * ```ts
 * import { createProviderRegistry, createVideoNode, localProviders } from '@vidgenie/nodes';
 * const video = createVideoNode({ providers: createProviderRegistry(localProviders()) });
 * ```
 */
export function createVideoNode(args: { readonly providers: ProviderRegistry }) {
  const { providers } = args;
  return defineNode({
    ...videoSpec(providerField(providers, 'video')),
    services: mediaServices,
    estimateCost: ({ config }) =>
      providers.get('video', config.provider).price({ durationSeconds: config.durationSeconds }),
    requiredSecrets: ({ config }) => requiredKeys(providers, 'video', config.provider),
    concurrencyKey: ({ config }) => config.provider,
    async run({ input, config, signal, progress, secrets, services, state, runId, nodeId }) {
      const provider = providers.get('video', config.provider);
      progress(0, `Animating with ${provider.displayName}`);
      const bytes = await services.blobs.getBytes({ key: input.image.key });
      const request = {
        prompt: input.prompt ?? '',
        image: {
          bytes,
          mimeType: input.image.mimeType,
          width: input.image.width,
          height: input.image.height,
        },
        durationSeconds: config.durationSeconds,
        motion: config.motion,
        aspectRatio: config.aspectRatio,
      };
      const ctx = {
        config: provider.config.parse(config.options),
        apiKey: await apiKeyFor(provider, secrets),
        signal,
        progress,
      };
      const result =
        config.durationSeconds <= provider.capabilities.maxClipSeconds
          ? await provider.generate({ ...request, state }, ctx)
          : await generateInSegments({ provider, request, ctx, state, media: services.media });
      let handedOver = false;
      try {
        const key = `runs/${runId}/${nodeId}.mp4`;
        const { blobs } = services;
        // A store that takes files over moves the download into place (no byte copied on the same
        // volume); others get a stream of it, in 1 MiB reads instead of 64 KiB: each read and each
        // write is a hand-off to libuv's thread pool, which under load costs the event loop its core.
        const stored =
          blobs.putFile === undefined
            ? await blobs.put({
                key,
                body: createReadStream(result.path, { highWaterMark: 1 << 20 }),
                mimeType: result.mimeType,
              })
            : await blobs.putFile({ key, path: result.path, mimeType: result.mimeType });
        handedOver = blobs.putFile !== undefined;
        progress(1);
        return {
          video: {
            ...stored,
            width: result.width,
            height: result.height,
            durationSeconds: result.durationSeconds,
          },
        };
      } finally {
        if (!handedOver) await rm(result.path, { force: true });
      }
    },
  });
}

import { z } from 'zod';
import { ImageRef, TextValue, VideoRef } from '../media/media-ref.ts';
import { defineNodeSpec } from './node-spec.ts';
import type { ProviderIdField } from './provider-id-field.ts';

/**
 * The browser-safe spec of the `video` node, with its `provider` field (see `providerIdField`).
 *
 * @example
 * ```ts
 * import { providerIdField, videoSpec } from '@vidgenie/nodes/specs';
 * videoSpec(providerIdField('video', ['local-video'])).config.parse({}).durationSeconds; // 8
 * ```
 */
export function videoSpec(provider: ProviderIdField) {
  return defineNodeSpec({
    type: 'video',
    version: 1,
    title: 'Video',
    description: 'Animates the image into a short vertical video.',
    input: z.object({ image: ImageRef, prompt: TextValue.optional() }),
    output: z.object({ video: VideoRef }),
    config: z.object({
      provider,
      durationSeconds: z.union([z.literal(8), z.literal(15), z.literal(30), z.literal(60)]).default(8),
      motion: z.enum(['low', 'medium', 'high']).default('medium'),
      aspectRatio: z.enum(['9:16', '1:1', '16:9']).default('9:16'),
      options: z.record(z.string(), z.unknown()).default({}),
    }),
  });
}

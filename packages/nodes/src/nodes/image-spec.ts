import { z } from 'zod';
import { ImageRef, TextValue } from '../media/media-ref.ts';
import { defineNodeSpec } from './node-spec.ts';
import type { ProviderIdField } from './provider-id-field.ts';

/**
 * The browser-safe spec of the `image` node, with its `provider` field (see `providerIdField`).
 *
 * @example
 * ```ts
 * import { imageSpec, providerIdField } from '@vidgenie/nodes/specs';
 * imageSpec(providerIdField('image', ['local-image'])).config.parse({}).size; // 'medium'
 * ```
 */
export function imageSpec(provider: ProviderIdField) {
  return defineNodeSpec({
    type: 'image',
    version: 1,
    title: 'Image',
    description: 'Generates the first frame from the prompt.',
    input: z.object({ prompt: TextValue }),
    output: z.object({ image: ImageRef }),
    config: z.object({
      provider,
      size: z.enum(['small', 'medium', 'large']).default('medium'),
      aspectRatio: z.enum(['9:16', '1:1', '16:9']).default('9:16'),
      options: z.record(z.string(), z.unknown()).default({}),
    }),
  });
}

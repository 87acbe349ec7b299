import { z } from 'zod';
import { TextValue } from '../media/media-ref.ts';
import { defineNodeSpec } from './node-spec.ts';
import type { ProviderIdField } from './provider-id-field.ts';

/**
 * The browser-safe spec of the `enhance` node, with its `provider` field (see `providerIdField`).
 *
 * @example
 * ```ts
 * import { enhanceSpec, providerIdField } from '@vidgenie/nodes/specs';
 * enhanceSpec(providerIdField('text', ['local-text'])).config.parse({}); // { provider: 'local-text', options: {} }
 * ```
 */
export function enhanceSpec(provider: ProviderIdField) {
  return defineNodeSpec({
    type: 'enhance',
    version: 1,
    title: 'Enhance prompt',
    description: 'Improves style, lighting, composition, mood and quality details of the prompt.',
    input: z.object({ prompt: TextValue }),
    output: z.object({
      prompt: TextValue,
      original: TextValue,
      tokensUsed: z.number().int().nonnegative(),
      model: z.string(),
    }),
    config: z.object({
      provider,
      options: z.record(z.string(), z.unknown()).default({}),
    }),
  });
}

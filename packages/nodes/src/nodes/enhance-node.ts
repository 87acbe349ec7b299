import { defineNode } from '@vidgenie/engine';
import type { ProviderRegistry } from '../provider/provider-registry.ts';
import { enhanceSpec } from './enhance-spec.ts';
import { apiKeyFor, providerField, requiredKeys } from './provider-field.ts';

/**
 * Makes the `enhance` node: a text provider rewrites the prompt for image and video models. Its
 * output keeps both texts for the before/after view.
 *
 * @example
 * ```ts
 * import { createEnhanceNode, createProviderRegistry, localProviders } from '@vidgenie/nodes';
 * const enhance = createEnhanceNode({ providers: createProviderRegistry(localProviders()) });
 * ```
 */
export function createEnhanceNode(args: { readonly providers: ProviderRegistry }) {
  const { providers } = args;
  return defineNode({
    ...enhanceSpec(providerField(providers, 'text')),
    estimateCost: ({ config }) => providers.get('text', config.provider).price(),
    requiredSecrets: ({ config }) => requiredKeys(providers, 'text', config.provider),
    concurrencyKey: ({ config }) => config.provider,
    async run({ input, config, signal, progress, secrets }) {
      const provider = providers.get('text', config.provider);
      const providerConfig = provider.config.parse(config.options);
      progress(0, `Enhancing with ${provider.displayName}`);
      const result = await provider.generate(
        { prompt: input.prompt },
        { config: providerConfig, apiKey: await apiKeyFor(provider, secrets), signal, progress },
      );
      progress(1);
      return {
        prompt: result.text,
        original: input.prompt,
        tokensUsed: result.tokensUsed,
        model: result.model,
      };
    },
  });
}

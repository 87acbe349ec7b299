import {
  createOpenAiImageProvider,
  createOpenAiTextProvider,
  createProviderRegistry,
  createRunwayVideoProvider,
  createStabilityImageProvider,
  createVeoVideoProvider,
  localProviders,
  type ProviderRegistry,
} from '@vidgenie/nodes';
import type { ServerConfig } from '../config/server-config.ts';

/**
 * Every provider the server offers: the offline local ones (no key) and the hosted ones, which
 * run with each user's own key from the vault. Base URLs come from the configuration.
 *
 * @example
 * ```ts
 * import { loadConfig, serverProviders } from '@vidgenie/server';
 * const providers = serverProviders(loadConfig({}));
 * console.log(providers.list().map((provider) => provider.id));
 * ```
 */
export function serverProviders(config: ServerConfig): ProviderRegistry {
  const openai = config.OPENAI_BASE_URL === undefined ? {} : { baseURL: config.OPENAI_BASE_URL };
  const polls =
    config.VIDGENIE_VIDEO_POLL_MS === undefined
      ? {}
      : {
          pollIntervalMs: config.VIDGENIE_VIDEO_POLL_MS,
          maxPollIntervalMs: 3 * config.VIDGENIE_VIDEO_POLL_MS,
        };
  return createProviderRegistry([
    ...localProviders(),
    createOpenAiTextProvider(openai),
    createOpenAiImageProvider(openai),
    createStabilityImageProvider(
      config.STABILITY_BASE_URL === undefined ? {} : { baseUrl: config.STABILITY_BASE_URL },
    ),
    createVeoVideoProvider({
      ...polls,
      ...(config.GEMINI_BASE_URL === undefined ? {} : { baseUrl: config.GEMINI_BASE_URL }),
    }),
    createRunwayVideoProvider({
      ...polls,
      ...(config.RUNWAY_BASE_URL === undefined ? {} : { baseURL: config.RUNWAY_BASE_URL }),
    }),
  ]);
}

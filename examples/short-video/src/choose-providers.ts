import {
  createOpenAiImageProvider,
  createOpenAiTextProvider,
  createRunwayVideoProvider,
  createStabilityImageProvider,
  createVeoVideoProvider,
  localProviders,
  type Provider,
} from '@vidgenie/nodes';

/** The environment variables that hold provider keys, by the secret name providers ask for. */
export const KEY_VARIABLES = {
  openai: 'OPENAI_API_KEY',
  stability: 'STABILITY_API_KEY',
  gemini: 'GEMINI_API_KEY',
  runway: 'RUNWAY_API_KEY',
} as const;

/** The providers to register and the ones the template should use. */
export interface ProviderChoice {
  readonly providers: readonly Provider[];
  readonly text: string;
  readonly image: string;
  readonly video: string;
  /** Resolves a provider's secret name to its key from the environment. */
  readonly secret: (name: string) => string | undefined;
}

/**
 * Registers the local providers always, and each hosted provider whose key is in the environment;
 * picks hosted providers over local ones (OpenAI for text; OpenAI, then Stability for images; Veo,
 * then Runway for video), unless `local` is set.
 */
export function chooseProviders(
  env: Readonly<Record<string, string | undefined>>,
  local = false,
): ProviderChoice {
  const has = (name: keyof typeof KEY_VARIABLES) => !local && (env[KEY_VARIABLES[name]] ?? '') !== '';
  const providers: Provider[] = [...localProviders()];
  if (has('openai')) providers.push(createOpenAiTextProvider(), createOpenAiImageProvider());
  if (has('stability')) providers.push(createStabilityImageProvider());
  if (has('gemini')) providers.push(createVeoVideoProvider());
  if (has('runway')) providers.push(createRunwayVideoProvider());
  return {
    providers,
    text: has('openai') ? 'openai-text' : 'local-text',
    image: has('openai') ? 'openai-image' : has('stability') ? 'stability-image' : 'local-image',
    video: has('gemini') ? 'veo-video' : has('runway') ? 'runway-video' : 'local-video',
    secret: (name) => {
      const variable = KEY_VARIABLES[name as keyof typeof KEY_VARIABLES];
      return variable === undefined ? undefined : env[variable];
    },
  };
}

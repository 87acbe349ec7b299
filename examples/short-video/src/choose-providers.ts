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

/**
 * The environment variables that send a hosted provider's calls to another endpoint (a proxy, a
 * gateway, a fake in tests) instead of the vendor's API, by secret name. `OPENAI_BASE_URL`
 * includes `/v1`, as in the OpenAI SDK; the others are origins (Runway's and Gemini's without a
 * version).
 */
export const BASE_URL_VARIABLES = {
  openai: 'OPENAI_BASE_URL',
  stability: 'STABILITY_BASE_URL',
  gemini: 'GEMINI_BASE_URL',
  runway: 'RUNWAY_BASE_URL',
} as const;

type HostedName = keyof typeof KEY_VARIABLES;

/** The providers to register and the ones the template should use. */
export interface ProviderChoice {
  readonly providers: readonly Provider[];
  readonly text: string;
  readonly image: string;
  readonly video: string;
  /** Resolves a provider's secret name to its key from the environment. */
  readonly secret: (name: string) => string | undefined;
  /** The base URLs taken from the environment, by secret name, for the providers in use. */
  readonly endpoints: Readonly<Partial<Record<HostedName, string>>>;
}

/**
 * Registers the local providers always, and each hosted provider whose key is in the environment
 * (at the base URL its `*_BASE_URL` variable names, if set); picks hosted providers over local
 * ones (OpenAI for text; OpenAI, then Stability for images; Veo, then Runway for video), unless
 * `local` is set. Throws when a base URL is not an http(s) URL.
 */
export function chooseProviders(
  env: Readonly<Record<string, string | undefined>>,
  local = false,
): ProviderChoice {
  const has = (name: HostedName) => !local && (env[KEY_VARIABLES[name]] ?? '') !== '';
  const endpoints: Partial<Record<HostedName, string>> = {};
  const baseUrl = (name: HostedName): string | undefined => {
    const variable = BASE_URL_VARIABLES[name];
    const value = env[variable]?.trim() ?? '';
    if (value === '') return undefined;
    if (!/^https?:$/.test(URL.parse(value)?.protocol ?? '')) {
      // The value is not repeated: a URL may carry credentials.
      throw new Error(`${variable} must be an http:// or https:// URL.`);
    }
    endpoints[name] = value;
    return value;
  };
  const providers: Provider[] = [...localProviders()];
  if (has('openai')) {
    const options = { baseURL: baseUrl('openai') };
    providers.push(createOpenAiTextProvider(options), createOpenAiImageProvider(options));
  }
  if (has('stability')) providers.push(createStabilityImageProvider({ baseUrl: baseUrl('stability') }));
  if (has('gemini')) providers.push(createVeoVideoProvider({ baseUrl: baseUrl('gemini') }));
  if (has('runway')) providers.push(createRunwayVideoProvider({ baseURL: baseUrl('runway') }));
  return {
    endpoints,
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

import { afterAll, beforeAll, describe, it } from 'vitest';
import { localProviders } from '../providers/local/local-providers.ts';
import { createOpenAiImageProvider } from '../providers/openai/openai-image-provider.ts';
import { createOpenAiTextProvider } from '../providers/openai/openai-text-provider.ts';
import { OPENAI_FAKE_KEY, type OpenAiFake, startOpenAiFake } from './fakes/openai-fake.ts';
import { describeProviderConformance } from './provider-conformance.ts';

for (const provider of localProviders()) {
  describeProviderConformance({ name: provider.id, createProvider: () => provider, describe, it });
}

let fake: OpenAiFake;
beforeAll(async () => {
  // The whole canary is echoed in 401s: the providers must scrub it themselves.
  fake = await startOpenAiFake({ validKeys: [OPENAI_FAKE_KEY], echoKeyInErrors: true });
});
afterAll(async () => {
  await fake.close();
});

const key = { valid: OPENAI_FAKE_KEY, invalid: 'sk-wrong-key-1234567890' };

describeProviderConformance({
  name: 'openai-text (fake)',
  createProvider: () => createOpenAiTextProvider({ baseURL: fake.baseURL }),
  key,
  describe,
  it,
});

describeProviderConformance({
  name: 'openai-image (fake)',
  createProvider: () => createOpenAiImageProvider({ baseURL: fake.baseURL }),
  key,
  describe,
  it,
});

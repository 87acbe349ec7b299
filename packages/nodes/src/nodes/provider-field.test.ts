import { EngineError } from '@vidgenie/engine';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineProvider } from '../provider/define-provider.ts';
import { createProviderRegistry } from '../provider/provider-registry.ts';
import { apiKeyFor, providerField, requiredKeys } from './provider-field.ts';

const hosted = defineProvider({
  id: 'hosted-text',
  displayName: 'Hosted',
  kind: 'text',
  local: false,
  key: { secret: 'hosted', label: 'Hosted key' },
  config: z.object({}),
  price: () => 1,
  generate: async ({ prompt }) => ({ text: prompt, tokensUsed: 0, model: 'm' }),
});
const local = defineProvider({
  id: 'local-text',
  displayName: 'Local',
  kind: 'text',
  local: true,
  config: z.object({}),
  price: () => 1,
  generate: async ({ prompt }) => ({ text: prompt, tokensUsed: 0, model: 'm' }),
});
const providers = createProviderRegistry([local, hosted]);
const missing = {
  get: async (name: string): Promise<string> => {
    throw new EngineError('MISSING_SECRET', `No secret "${name}"`, { retryable: false });
  },
};

describe('provider fields', () => {
  it('defaults to the first provider of the kind and lists the choices for an unknown one', () => {
    const field = providerField(providers, 'text');
    expect(field.parse(undefined)).toBe('local-text');
    const result = field.safeParse('nope');
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe('Choose a text provider: local-text, hosted-text.');
  });

  it('names the secrets a provider needs', () => {
    expect(requiredKeys(providers, 'text', 'hosted-text')).toEqual(['hosted']);
    expect(requiredKeys(providers, 'text', 'local-text')).toEqual([]);
  });

  it('says where to add a missing key, without retrying', async () => {
    await expect(apiKeyFor(local, missing)).resolves.toBeUndefined();
    const error = await apiKeyFor(hosted, missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).retryable).toBe(false);
    expect((error as EngineError).message).toBe('Add your Hosted key in Settings to use Hosted.');
    await expect(apiKeyFor(hosted, { get: async () => 'k-123' })).resolves.toBe('k-123');
  });
});

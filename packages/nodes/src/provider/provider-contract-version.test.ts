import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { localProviders } from '../providers/local/local-providers.ts';
import { defineProvider } from './define-provider.ts';
import { PROVIDER_CONTRACT_VERSION, ProviderContractVersionError } from './provider-contract-version.ts';
import { createProviderRegistry } from './provider-registry.ts';

/** A local text provider declaring `contractVersion` (or none when undefined). */
function echo(contractVersion?: number) {
  return defineProvider({
    id: 'echo',
    displayName: 'Echo (local)',
    kind: 'text',
    local: true,
    ...(contractVersion === undefined ? {} : { contractVersion }),
    config: z.object({}),
    price: () => 1,
    generate: async ({ prompt }) => ({ text: prompt, tokensUsed: 0, model: 'echo' }),
  });
}

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('provider contract version', () => {
  it('is 1; providers without a contractVersion, and the bundled ones, register', () => {
    expect(PROVIDER_CONTRACT_VERSION).toBe(1);
    expect(createProviderRegistry([echo()]).get('text', 'echo').id).toBe('echo');
    const bundled = localProviders();
    expect(createProviderRegistry(bundled).list()).toHaveLength(bundled.length);
  });

  it('a provider declaring the current contract version registers', () => {
    const registry = createProviderRegistry([echo(PROVIDER_CONTRACT_VERSION)]);
    expect(registry.get('text', 'echo').contractVersion).toBe(PROVIDER_CONTRACT_VERSION);
  });

  it('a provider built for a newer contract major is refused with a typed error saying what to do', () => {
    const error = thrownBy(() => createProviderRegistry([echo(PROVIDER_CONTRACT_VERSION + 1)]));
    expect(error).toBeInstanceOf(ProviderContractVersionError);
    const refused = error as ProviderContractVersionError;
    expect(refused).toMatchObject({
      code: 'PROVIDER_CONTRACT_VERSION',
      providerId: 'echo',
      contractVersion: PROVIDER_CONTRACT_VERSION + 1,
      supported: PROVIDER_CONTRACT_VERSION,
    });
    expect(refused.message).toContain(`version ${PROVIDER_CONTRACT_VERSION + 1}`);
    expect(refused.message).toContain('upgrade @vidgenie/nodes');
  });

  it('a contract version that is not a whole number from 1 is refused', () => {
    for (const version of [0, -1, 1.5, Number.NaN]) {
      const error = thrownBy(() => createProviderRegistry([echo(version)]));
      expect(error).toBeInstanceOf(ProviderContractVersionError);
      expect((error as ProviderContractVersionError).message).not.toContain('upgrade');
    }
  });
});

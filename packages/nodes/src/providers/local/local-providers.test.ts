import { describe, expect, it } from 'vitest';
import { createProviderRegistry } from '../../provider/provider-registry.ts';
import { localProviders } from './local-providers.ts';

describe('localProviders', () => {
  it('returns the text, image and video providers, in that order, all local and keyless', () => {
    const providers = localProviders();
    expect(providers.map((p) => [p.id, p.kind])).toEqual([
      ['local-text', 'text'],
      ['local-image', 'image'],
      ['local-video', 'video'],
    ]);
    for (const provider of providers) {
      expect(provider.local).toBe(true);
      expect(provider.key).toBeUndefined();
      expect(Object.isFrozen(provider)).toBe(true);
      expect(provider.config.parse({})).toEqual({});
    }
  });

  it('fills a provider registry', () => {
    const registry = createProviderRegistry(localProviders());
    expect(registry.get('video', 'local-video').capabilities.maxClipSeconds).toBe(60);
    expect(registry.find('image', 'local-video')).toBeUndefined();
  });
});

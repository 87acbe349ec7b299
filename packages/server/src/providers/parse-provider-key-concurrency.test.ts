import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/server-config.ts';
import { parseProviderKeyConcurrency } from './parse-provider-key-concurrency.ts';

describe('parseProviderKeyConcurrency', () => {
  it('reads kinds and provider ids', () => {
    expect(parseProviderKeyConcurrency(' text=12, video = 2,openai-image=1 ')).toEqual({
      byKind: { text: 12, video: 2 },
      byProvider: { 'openai-image': 1 },
    });
  });

  it('refuses anything else', () => {
    for (const bad of ['', 'text', 'text=0', 'text=-1', 'text=2;video=1', 'Text=2', 'text=1.5']) {
      expect(() => parseProviderKeyConcurrency(bad), bad).toThrow(RangeError);
    }
  });

  it('is what VIDGENIE_PROVIDER_KEY_CONCURRENCY accepts', () => {
    expect(
      loadConfig({ VIDGENIE_PROVIDER_KEY_CONCURRENCY: 'video=2' }).VIDGENIE_PROVIDER_KEY_CONCURRENCY,
    ).toBe('video=2');
    expect(() => loadConfig({ VIDGENIE_PROVIDER_KEY_CONCURRENCY: 'video=0' })).toThrow(
      /VIDGENIE_PROVIDER_KEY_CONCURRENCY/,
    );
    expect(() => loadConfig({ VIDGENIE_PROVIDER_KEY_CONCURRENCY: 'video' })).toThrow(/name=number/);
  });
});

import { describe, expect, it } from 'vitest';
import { chooseProviders } from './choose-providers.ts';

describe('chooseProviders', () => {
  it('uses the local providers when no key is set', () => {
    const choice = chooseProviders({});
    expect([choice.text, choice.image, choice.video]).toEqual(['local-text', 'local-image', 'local-video']);
    expect(choice.providers.map((p) => p.id)).toEqual(['local-text', 'local-image', 'local-video']);
  });

  it('prefers hosted providers whose keys are in the environment, and resolves their keys', () => {
    const choice = chooseProviders({ OPENAI_API_KEY: 'sk-1', RUNWAY_API_KEY: 'rw-1' });
    expect([choice.text, choice.image, choice.video]).toEqual([
      'openai-text',
      'openai-image',
      'runway-video',
    ]);
    expect(choice.secret('openai')).toBe('sk-1');
    expect(choice.secret('runway')).toBe('rw-1');
    expect(choice.secret('gemini')).toBeUndefined();
    const stability = chooseProviders({ STABILITY_API_KEY: 'st', GEMINI_API_KEY: 'g' });
    expect([stability.image, stability.video]).toEqual(['stability-image', 'veo-video']);
  });

  it('stays local when asked, whatever the environment holds', () => {
    const choice = chooseProviders({ OPENAI_API_KEY: 'sk-1' }, true);
    expect(choice.image).toBe('local-image');
    expect(choice.providers.some((p) => !p.local)).toBe(false);
  });

  it('takes base URLs for the hosted providers in use, and refuses one that is not http(s)', () => {
    const choice = chooseProviders({
      OPENAI_API_KEY: 'sk-1',
      OPENAI_BASE_URL: 'http://127.0.0.1:8080/v1',
      RUNWAY_API_KEY: 'rw-1',
      RUNWAY_BASE_URL: ' ',
      GEMINI_BASE_URL: 'https://gemini.example', // no GEMINI_API_KEY: Veo is not used
    });
    expect(choice.endpoints).toEqual({ openai: 'http://127.0.0.1:8080/v1' });
    expect(chooseProviders({ OPENAI_BASE_URL: 'http://127.0.0.1:8080/v1' }).endpoints).toEqual({});
    expect(() =>
      chooseProviders({ STABILITY_API_KEY: 'st', STABILITY_BASE_URL: 'ftp://user:secret@host' }),
    ).toThrow(/^STABILITY_BASE_URL must be an http:\/\/ or https:\/\/ URL\.$/);
    expect(() => chooseProviders({ GEMINI_API_KEY: 'g', GEMINI_BASE_URL: 'not a url' })).toThrow(
      /GEMINI_BASE_URL/,
    );
  });
});

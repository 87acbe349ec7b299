import { describe, expect, it } from 'vitest';
import { en, fr } from './dictionaries.ts';
import { DICTIONARIES, LANGUAGES, pickLanguage, placeholdersOf, translate } from './translate.ts';

describe('the i18n dictionaries', () => {
  it('have every key in both languages, none empty', () => {
    const keys = Object.keys(en).sort();
    for (const language of LANGUAGES) {
      const dictionary: Readonly<Record<string, string>> = DICTIONARIES[language];
      expect(Object.keys(dictionary).sort(), language).toEqual(keys);
      for (const key of keys) expect(dictionary[key]?.trim(), `${language}: ${key}`).not.toBe('');
    }
  });

  it('use the same placeholders in both languages', () => {
    for (const key of Object.keys(en) as (keyof typeof en)[])
      expect(placeholdersOf(fr[key]), key).toEqual(placeholdersOf(en[key]));
  });

  it('translate with placeholders filled', () => {
    expect(translate('en', 'run.runCost', { credits: 14 })).toBe('Run · 14 credits');
    expect(translate('fr', 'run.runCost', { credits: 14 })).toBe('Lancer · 14 crédits');
    expect(translate('fr', 'nav.library')).toBe('Bibliothèque');
    expect(translate('en', 'run.estimate')).toBe('Estimated cost: {credits} credits');
  });

  it('pick the stored language, then the browser one, then English', () => {
    expect(pickLanguage('fr', ['en-US'])).toBe('fr');
    expect(pickLanguage(null, ['fr-FR', 'en'])).toBe('fr');
    expect(pickLanguage('de', ['de-DE', 'en-GB'])).toBe('en');
    expect(pickLanguage(null, ['es'])).toBe('en');
  });
});

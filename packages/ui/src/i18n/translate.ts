import { type Dictionary, en, fr, type MessageKey } from './dictionaries.ts';

/** The languages the app speaks. */
export type Language = 'en' | 'fr';
export const LANGUAGES: readonly Language[] = ['en', 'fr'];
export const DICTIONARIES: Readonly<Record<Language, Dictionary>> = { en, fr };

/** Values for a message's `{name}` placeholders. */
export type MessageValues = Readonly<Record<string, string | number>>;
/** Translates a key into the current language. */
export type Translate = (key: MessageKey, values?: MessageValues) => string;

export const isLanguage = (value: unknown): value is Language => value === 'en' || value === 'fr';

/** The stored choice if any, else the first browser language we speak, else English. */
export function pickLanguage(stored: string | null, browser: readonly string[]): Language {
  if (isLanguage(stored)) return stored;
  for (const tag of browser) {
    const base = tag.toLowerCase().split('-')[0];
    if (isLanguage(base)) return base;
  }
  return 'en';
}

/** A message in a language, its `{name}` placeholders filled (unknown names stay as written). */
export function translate(language: Language, key: MessageKey, values?: MessageValues): string {
  const template = DICTIONARIES[language][key];
  if (values === undefined) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.hasOwn(values, name) ? String(values[name]) : whole,
  );
}

/** The `{name}` placeholders of a message, sorted. */
export const placeholdersOf = (message: string): string[] =>
  Array.from(message.matchAll(/\{(\w+)\}/g), (match) => match[1] ?? '').sort();

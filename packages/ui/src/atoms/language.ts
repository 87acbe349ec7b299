import { atom, useAtomValue } from 'jotai';
import type { MessageKey } from '../i18n/dictionaries.ts';
import {
  type Language,
  type MessageValues,
  pickLanguage,
  type Translate,
  translate,
} from '../i18n/translate.ts';

const STORAGE_KEY = 'vidgenie.language';

const stored = (): string | null => {
  try {
    return window.localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
};

const current = atom<Language>(pickLanguage(stored(), navigator.languages ?? [navigator.language]));

/** The app's language: the saved choice, else the browser's; setting it saves it. */
export const languageAtom = atom(
  (get) => get(current),
  (_get, set, language: Language) => {
    set(current, language);
    try {
      window.localStorage.setItem(STORAGE_KEY, language);
    } catch {
      // Private modes may refuse storage: the choice then lasts for the visit.
    }
    document.documentElement.lang = language;
  },
);

/** `t(key, values)` in the current language. */
export const translateAtom = atom((get): Translate => {
  const language = get(languageAtom);
  return (key: MessageKey, values?: MessageValues) => translate(language, key, values);
});

/** The translation function of the current language. */
export const useT = (): Translate => useAtomValue(translateAtom);

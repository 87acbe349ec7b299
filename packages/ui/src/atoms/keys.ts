import { atom } from 'jotai';
import type { ProviderKeys, ProviderKind } from '../api/api-types.ts';

/** The caller's provider keys and the slots providers need (`GET /api/user/api-keys`). */
export const providerKeysAtom = atom<ProviderKeys | null>(null);

/** A provider the side panel offers. */
export interface ProviderChoice {
  readonly id: string;
  readonly name: string;
  readonly local: boolean;
  /** For hosted providers: whether a key is saved, and its last test. */
  readonly key: 'none' | 'valid' | 'invalid' | 'unchecked' | 'not-needed';
}

/** The offline providers every installation has: they need no key and spend nothing outside. */
export const LOCAL_PROVIDERS: Readonly<Record<ProviderKind, ProviderChoice>> = {
  text: { id: 'local-text', name: 'Local text', local: true, key: 'not-needed' },
  image: { id: 'local-image', name: 'Local image', local: true, key: 'not-needed' },
  video: { id: 'local-video', name: 'Local video (Ken Burns)', local: true, key: 'not-needed' },
};

/** The providers of a kind: the local one first, then the hosted ones with their key's state. */
export const providerChoicesAtom = atom((get) => {
  const keys = get(providerKeysAtom);
  return (kind: ProviderKind): ProviderChoice[] => {
    const hosted = (keys?.slots ?? []).flatMap((slot) =>
      slot.providers
        .filter((provider) => provider.kind === kind)
        .map((provider): ProviderChoice => {
          const saved = keys?.keys.find((key) => key.providerId === slot.providerId);
          return { id: provider.id, name: provider.displayName, local: false, key: saved?.status ?? 'none' };
        }),
    );
    return [LOCAL_PROVIDERS[kind], ...hosted];
  };
});

/**
 * The hosted providers' display names by id ("Runway" for `runway-video`), from the key slots the
 * API lists with the keys; empty until they are loaded.
 */
export const providerNamesAtom = atom((get): ReadonlyMap<string, string> => {
  const names = new Map<string, string>();
  for (const slot of get(providerKeysAtom)?.slots ?? [])
    for (const provider of slot.providers) names.set(provider.id, provider.displayName);
  return names;
});

import { EngineError } from '@vidgenie/engine';
import { checkProviderContract } from './provider-contract-version.ts';
import type { ImageProvider, Provider, ProviderKind, TextProvider, VideoProvider } from './provider-types.ts';

type ProviderOfKind<K extends ProviderKind> = K extends 'text'
  ? TextProvider
  : K extends 'image'
    ? ImageProvider
    : VideoProvider;

/** The providers a deployment offers, by id. */
export interface ProviderRegistry {
  /** Every provider, in registration order. */
  list(): readonly Provider[];
  /** Providers of one kind. */
  ofKind<K extends ProviderKind>(kind: K): readonly ProviderOfKind<K>[];
  /** A provider of the given kind, or undefined. */
  find<K extends ProviderKind>(kind: K, id: string): ProviderOfKind<K> | undefined;
  /** A provider of the given kind; throws a non-retryable error naming the choices otherwise. */
  get<K extends ProviderKind>(kind: K, id: string): ProviderOfKind<K>;
}

/**
 * Creates a provider registry. Ids must be unique, and each provider's `contractVersion` (1 when
 * absent) must be one this package implements: a provider built for a newer contract major is
 * refused with `ProviderContractVersionError`.
 *
 * @example
 * ```ts
 * import { createProviderRegistry, localProviders } from '@vidgenie/nodes';
 * const providers = createProviderRegistry(localProviders());
 * providers.ofKind('video').map((p) => p.id);
 * ```
 */
export function createProviderRegistry(providers: readonly Provider[]): ProviderRegistry {
  const byId = new Map<string, Provider>();
  for (const provider of providers) {
    if (byId.has(provider.id)) throw new TypeError(`Provider "${provider.id}" is registered twice.`);
    checkProviderContract(provider);
    byId.set(provider.id, provider);
  }
  const ofKind = <K extends ProviderKind>(kind: K) =>
    [...byId.values()].filter((p) => p.kind === kind) as unknown as ProviderOfKind<K>[];
  const find = <K extends ProviderKind>(kind: K, id: string) => {
    const provider = byId.get(id);
    return provider?.kind === kind ? (provider as unknown as ProviderOfKind<K>) : undefined;
  };
  return Object.freeze({
    list: () => [...byId.values()],
    ofKind,
    find,
    get: <K extends ProviderKind>(kind: K, id: string) => {
      const provider = find(kind, id);
      if (provider === undefined) {
        const choices = ofKind(kind)
          .map((p) => p.id)
          .join(', ');
        throw new EngineError(
          'NON_RETRYABLE',
          `No ${kind} provider "${id}". Available: ${choices || 'none'}.`,
          {
            retryable: false,
          },
        );
      }
      return provider;
    },
  });
}

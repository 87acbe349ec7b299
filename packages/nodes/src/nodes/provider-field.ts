import { EngineError, NonRetryableError } from '@vidgenie/engine';
import type { ProviderRegistry } from '../provider/provider-registry.ts';
import type { ProviderKind } from '../provider/provider-types.ts';
import { type ProviderIdField, providerIdField } from './provider-id-field.ts';

/**
 * The `provider` config field of a media node: a provider id of the right kind, defaulting to
 * the first registered one, with an error that lists the choices. @internal
 */
export function providerField(providers: ProviderRegistry, kind: ProviderKind): ProviderIdField {
  return providerIdField(
    kind,
    providers.ofKind(kind).map((p) => p.id),
  );
}

/**
 * Reads the key a provider needs from the run's secrets; local providers need none. A missing key
 * fails the node at once with a message that says where to add it. @internal
 */
export async function apiKeyFor(
  provider: {
    readonly displayName: string;
    readonly key?: { readonly secret: string; readonly label: string };
  },
  secrets: { get(name: string): Promise<string> },
): Promise<string | undefined> {
  if (provider.key === undefined) return undefined;
  try {
    return await secrets.get(provider.key.secret);
  } catch (error) {
    if (error instanceof EngineError && error.code === 'MISSING_SECRET') {
      throw new NonRetryableError(
        `Add your ${provider.key.label} in Settings to use ${provider.displayName}.`,
        {
          cause: error,
        },
      );
    }
    throw error;
  }
}

/** The secret names a node needs for its selected provider (none for local ones). @internal */
export function requiredKeys(providers: ProviderRegistry, kind: ProviderKind, id: string): readonly string[] {
  const key = providers.find(kind, id)?.key;
  return key === undefined ? [] : [key.secret];
}

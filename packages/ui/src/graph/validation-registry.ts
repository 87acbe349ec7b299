import type { NodeRegistry } from '@vidgenie/engine';
import { createValidationRegistry, type ProviderDescriptor } from '@vidgenie/nodes/specs';
import type { ProviderKeys, ProviderKind } from '../api/api-types.ts';
import { LOCAL_PROVIDERS, type ProviderChoice } from '../atoms/keys.ts';
import { DEFAULT_VALIDATION_REGISTRY } from './validate-with-engine.ts';

const cache = new WeakMap<ProviderKeys, NodeRegistry>();

/**
 * The validation registry for the providers the app knows: the offline local ones and the hosted
 * ones of the key slots (`GET /api/user/api-keys`), so a `provider` config naming another is a
 * problem on its node. Until the keys are loaded (`null`), `provider` fields are not checked (no
 * false errors while loading).
 */
export function validationRegistryFor(keys: ProviderKeys | null): NodeRegistry {
  if (keys === null) return DEFAULT_VALIDATION_REGISTRY;
  let registry = cache.get(keys);
  if (registry === undefined) {
    const providers: ProviderDescriptor[] = [
      ...(Object.entries(LOCAL_PROVIDERS) as [ProviderKind, ProviderChoice][]).map(([kind, { id }]) => ({
        kind,
        id,
      })),
      ...keys.slots.flatMap((slot) => slot.providers.map(({ kind, id }) => ({ kind, id }))),
    ];
    registry = createValidationRegistry({ providers });
    cache.set(keys, registry);
  }
  return registry;
}

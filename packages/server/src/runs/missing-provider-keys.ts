import type { NodeRegistry, WorkflowGraph } from '@vidgenie/engine';
import type { ProviderRegistry } from '@vidgenie/nodes';
import type { ProviderKeyEntry } from '../vault/provider-key-vault.ts';

/** A key a graph needs that the user cannot use: not saved, or rejected by its provider. */
export interface MissingProviderKey {
  /** The key name in the vault (`openai`, `stability`…), as Settings shows it. */
  readonly providerId: string;
  /** The key's label (`OpenAI API key`). */
  readonly label: string;
  /** `missing`: no key saved; `invalid`: the provider refused the saved key when it was tested. */
  readonly reason: 'missing' | 'invalid';
  /** The nodes that need it. */
  readonly nodeIds: readonly string[];
}

/**
 * The provider keys a validated graph needs (each node's `requiredSecrets` for its configured
 * provider; local providers need none) that the user has not saved, or saved and saw refused.
 * A key not tested yet counts as usable: the run will tell.
 *
 * @example
 * ```ts
 * import { createProviderRegistry, createShortVideoRegistry, localProviders, shortVideoTemplate } from '@vidgenie/nodes';
 * import { validateGraph } from '@vidgenie/engine';
 * import { missingProviderKeys } from '@vidgenie/server';
 * const providers = createProviderRegistry(localProviders());
 * const registry = createShortVideoRegistry({ providers });
 * const checked = validateGraph(shortVideoTemplate({ prompt: 'a fox' }), registry);
 * if (checked.ok) console.log(missingProviderKeys({ graph: checked.graph, registry, providers, keys: [] })); // []
 * ```
 */
export function missingProviderKeys(args: {
  readonly graph: WorkflowGraph;
  readonly registry: NodeRegistry;
  readonly providers: ProviderRegistry;
  /** The user's saved keys. */
  readonly keys: readonly Pick<ProviderKeyEntry, 'providerId' | 'status'>[];
}): MissingProviderKey[] {
  const saved = new Map(args.keys.map((key) => [key.providerId, key.status]));
  const needed = new Map<string, string[]>();
  for (const node of args.graph.nodes) {
    if (!args.registry.has(node.type)) continue;
    const def = args.registry.get(node.type);
    if (def.requiredSecrets === undefined) continue;
    const config = def.config.safeParse(node.config);
    if (!config.success) continue; // a validated graph always parses
    for (const name of def.requiredSecrets({ config: config.data })) {
      needed.set(name, [...(needed.get(name) ?? []), node.id]);
    }
  }
  const missing: MissingProviderKey[] = [];
  for (const [providerId, nodeIds] of needed) {
    const status = saved.get(providerId);
    if (status !== undefined && status !== 'invalid') continue;
    const label =
      args.providers.list().find((provider) => provider.key?.secret === providerId)?.key?.label ??
      `${providerId} key`;
    missing.push({ providerId, label, reason: status === undefined ? 'missing' : 'invalid', nodeIds });
  }
  return missing;
}

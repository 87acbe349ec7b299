import { type CostEstimate, estimateCost, GraphValidationError, type NodeRegistry } from '@vidgenie/engine';
import { createShortVideoRegistry, type ProviderRegistry } from '@vidgenie/nodes';
import { ApiError } from '../errors/api-error.ts';

const registries = new WeakMap<ProviderRegistry, NodeRegistry>();

/** The short-video node registry bound to the server's providers, built once per provider registry. */
function nodeRegistryFor(providers: ProviderRegistry): NodeRegistry {
  let registry = registries.get(providers);
  if (registry === undefined) {
    registry = createShortVideoRegistry({ providers });
    registries.set(providers, registry);
  }
  return registry;
}

/**
 * Prices a workflow graph with the short-video nodes and the server's providers (each node's
 * provider sets its price). An invalid graph is a 400 `GRAPH_INVALID` whose `details.issues` lists
 * every problem with its node, edge and port ids, as the engine reports them.
 */
export function estimateWorkflow(graph: unknown, providers: ProviderRegistry): CostEstimate {
  try {
    return estimateCost(graph, nodeRegistryFor(providers));
  } catch (error) {
    if (error instanceof GraphValidationError) {
      throw new ApiError('GRAPH_INVALID', error.message, { details: { issues: error.issues }, cause: error });
    }
    throw error;
  }
}

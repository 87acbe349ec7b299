import { GraphValidationError } from '../errors/graph-validation-error.ts';
import { analyzeGraph } from '../graph/analyze-graph.ts';
import type { ExecutionPlan } from '../graph/execution-plan.ts';
import type { NodeRegistry } from '../node/node-registry.ts';

/** One node's share of a cost estimate. */
export interface NodeCost {
  readonly nodeId: string;
  readonly nodeType: string;
  readonly cost: number;
}

/** A run's estimated cost in credits: the total and a per-node breakdown. */
export interface CostEstimate {
  readonly total: number;
  readonly nodes: readonly NodeCost[];
}

/**
 * Estimates what a graph costs in credits before running it, per node. Pure: the canvas calls it
 * client-side. Throws `GraphValidationError` for a graph that does not validate.
 *
 * @example
 * ```ts
 * import { createNodeRegistry, estimateCost } from '@vidgenie/engine';
 * const { total } = estimateCost({ version: 1, nodes: [], edges: [] }, createNodeRegistry([]));
 * console.log(total); // 0
 * ```
 */
export function estimateCost(graph: unknown, registry: NodeRegistry): CostEstimate {
  const analysis = analyzeGraph(graph, registry);
  if (!analysis.ok) throw new GraphValidationError(analysis.issues);
  return estimatePlan(analysis.plan);
}

/** The estimate of a compiled plan, leaving out nodes in `skip`. @internal */
export function estimatePlan(plan: ExecutionPlan, skip?: ReadonlySet<string>): CostEstimate {
  const nodes: NodeCost[] = [];
  let total = 0;
  for (const node of plan.nodes) {
    if (skip?.has(node.id)) continue;
    nodes.push({ nodeId: node.id, nodeType: node.def.type, cost: node.cost });
    total += node.cost;
  }
  return { total, nodes };
}

import type { NodeId } from '../ids/ids.ts';
import type { NodeDefinition } from '../node/node-definition.ts';
import type { WorkflowGraph } from './workflow-graph.ts';

/** A node of a validated graph, ready to schedule. @internal */
export interface PlanNode {
  readonly index: number;
  readonly id: NodeId;
  readonly def: NodeDefinition.Any;
  /** The config after schema parsing (defaults applied). */
  readonly config: Record<string, unknown>;
  /** The node's price in credits for its config. */
  readonly cost: number;
}

/**
 * Lists of node indices, one per plan node, in one flat array: node `i`'s list is
 * `items[start[i]]` to `items[start[i + 1] - 1]`. Flat typed arrays instead of an array per node
 * keep a large plan to a handful of allocations. @internal
 */
export interface Adjacency {
  /** `nodes.length + 1` offsets into `items`. */
  readonly start: Int32Array;
  readonly items: Int32Array;
}

/**
 * Where the input ports of every plan node get their values, flattened like {@link Adjacency}:
 * node `i`'s bindings are `k` in `start[i]` to `start[i + 1] - 1`, in edge order, and binding `k`
 * feeds input `port[k]` with output `sourcePort[k]` of node `source[k]`. @internal
 */
export interface PlanBindings {
  readonly start: Int32Array;
  readonly source: Int32Array;
  readonly port: readonly string[];
  readonly sourcePort: readonly string[];
}

/** A validated graph compiled for execution. @internal */
export interface ExecutionPlan {
  readonly graph: WorkflowGraph;
  readonly nodes: readonly PlanNode[];
  readonly byId: { get(id: string): PlanNode | undefined; has(id: string): boolean };
  readonly bindings: PlanBindings;
  /** Each node's distinct downstream nodes, in edge order. */
  readonly dependents: Adjacency;
  /** How many distinct upstream nodes each node waits for. */
  readonly upstreamCount: Int32Array;
}

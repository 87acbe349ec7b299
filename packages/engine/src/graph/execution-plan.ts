import type { NodeId } from '../ids/ids.ts';
import type { NodeDefinition } from '../node/node-definition.ts';
import type { WorkflowGraph } from './workflow-graph.ts';

/** Where one input port of a planned node gets its value. */
export interface InputBinding {
  readonly edgeId: string;
  readonly port: string;
  readonly source: number;
  readonly sourcePort: string;
}

/** A node of a validated graph, ready to schedule. @internal */
export interface PlanNode {
  readonly index: number;
  readonly id: NodeId;
  readonly def: NodeDefinition.Any;
  /** The config after schema parsing (defaults applied). */
  readonly config: Record<string, unknown>;
  readonly bindings: readonly InputBinding[];
  /** Indices of distinct downstream nodes. */
  readonly dependents: readonly number[];
  /** How many distinct upstream nodes this node waits for. */
  readonly upstreamCount: number;
  /** The node's price in credits for its config. */
  readonly cost: number;
}

/** A validated graph compiled for execution. @internal */
export interface ExecutionPlan {
  readonly graph: WorkflowGraph;
  readonly nodes: readonly PlanNode[];
  readonly byId: { get(id: string): PlanNode | undefined; has(id: string): boolean };
}

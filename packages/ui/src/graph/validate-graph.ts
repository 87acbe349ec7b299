import type { GraphIssueCode } from '@vidgenie/engine';
import type { StepType, WorkflowGraphInput } from './graph-types.ts';
import { isStepType } from './graph-types.ts';

/**
 * The graph checks the canvas needs at once, kept light for the first page: the ports of each node
 * type (a test checks they are the ones the engine registry of `@vidgenie/nodes/specs` derives
 * from the nodes' schemas) and the check of a connection while it is drawn. The whole graph is
 * checked by the engine itself (`validateWithEngine`, loaded after the first page: see
 * `graph-issues-atom.ts`); the server validates again when the graph is sent.
 */

/** The value types that flow between ports (each has a `port.<type>` message). */
export type PortType = 'text' | 'image' | 'video';

/** One port of a node type. */
export interface PortSpec {
  readonly name: string;
  readonly type: PortType;
  readonly required: boolean;
}

/** The ports of a node type, as its engine schemas declare them. */
export interface NodeSpec {
  readonly inputs: readonly PortSpec[];
  readonly outputs: readonly PortSpec[];
}

const port = (name: string, type: PortType, required = true): PortSpec => ({ name, type, required });

/**
 * The registered node types and their media ports (the engine's port names, in drawing order), as
 * `nodeSpecsOf` reads them from the engine registry: `validate-graph.test.ts` checks they are equal,
 * so they cannot drift from the nodes' schemas.
 */
export const NODE_SPECS: Readonly<Record<StepType, NodeSpec>> = {
  prompt: { inputs: [], outputs: [port('prompt', 'text')] },
  enhance: { inputs: [port('prompt', 'text')], outputs: [port('prompt', 'text'), port('original', 'text')] },
  image: { inputs: [port('prompt', 'text')], outputs: [port('image', 'image')] },
  video: {
    inputs: [port('image', 'image'), port('prompt', 'text', false)],
    outputs: [port('video', 'video')],
  },
  output: {
    inputs: [
      port('video', 'video'),
      port('image', 'image', false),
      port('prompt', 'text', false),
      port('original', 'text', false),
    ],
    outputs: [],
  },
};

/** The engine's issue codes (each has an `issue.<code>` message). */
export type LocalIssueCode = GraphIssueCode;

/** One problem, on the node it concerns (an edge's problem is on its target node). */
export interface LocalIssue {
  readonly code: LocalIssueCode;
  readonly nodeId: string;
  readonly edgeId?: string;
  readonly port?: string;
  /**
   * Values for the message (`issue.<code>` in the dictionaries); for codes the app has no own
   * sentence for (e.g. `INVALID_CONFIG`), `message` is the engine's.
   */
  readonly values: Readonly<Record<string, string>>;
}

type EdgeLike = {
  readonly id?: string;
  readonly source: string;
  readonly target: string;
  readonly sourceHandle?: string | null;
  readonly targetHandle?: string | null;
};

/** The ports of a node of the graph, when its type is registered. */
export const specOf = (graph: WorkflowGraphInput, nodeId: string): NodeSpec | undefined => {
  const type = graph.nodes.find((node) => node.id === nodeId)?.type;
  return type !== undefined && isStepType(type) ? NODE_SPECS[type] : undefined;
};

/** Whether `target` can already reach `source` along the edges (so source → target closes a loop). */
export function reaches(edges: readonly EdgeLike[], from: string, to: string): boolean {
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length > 0) {
    const current = stack.pop() as string;
    if (current === to) return true;
    if (seen.has(current)) continue;
    seen.add(current);
    for (const edge of edges) if (edge.source === current) stack.push(edge.target);
  }
  return false;
}

/** Why a connection cannot be drawn, or `null` when it can. */
export type ConnectionProblem =
  | { readonly code: 'UNKNOWN_PORT' | 'SAME_NODE' | 'CYCLE' | 'INPUT_ALREADY_CONNECTED' }
  | { readonly code: 'INCOMPATIBLE_PORTS'; readonly from: PortType; readonly to: PortType };

/**
 * Checks a connection while it is drawn (React Flow's `isValidConnection`): the ports exist, their
 * types match (an image output cannot feed a prompt input), the input is free and no loop closes.
 */
export function checkConnection(graph: WorkflowGraphInput, connection: EdgeLike): ConnectionProblem | null {
  if (connection.source === connection.target) return { code: 'SAME_NODE' };
  const out = specOf(graph, connection.source)?.outputs.find((p) => p.name === connection.sourceHandle);
  const into = specOf(graph, connection.target)?.inputs.find((p) => p.name === connection.targetHandle);
  if (out === undefined || into === undefined) return { code: 'UNKNOWN_PORT' };
  if (out.type !== into.type) return { code: 'INCOMPATIBLE_PORTS', from: out.type, to: into.type };
  const edges = graph.edges ?? [];
  if (
    edges.some((edge) => edge.target === connection.target && edge.targetHandle === connection.targetHandle)
  )
    return { code: 'INPUT_ALREADY_CONNECTED' };
  if (reaches(edges, connection.target, connection.source)) return { code: 'CYCLE' };
  return null;
}

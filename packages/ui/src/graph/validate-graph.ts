import type { StepType, WorkflowGraphInput } from './graph-types.ts';
import { isStepType } from './graph-types.ts';

/**
 * A browser-side check of a graph before Run. `@vidgenie/engine` has `validateGraph`, but it needs
 * a node registry, and the registry's node definitions live in `@vidgenie/nodes`, whose index pulls
 * in Node-only modules: so the port types of the five registered nodes are mirrored here (from the
 * nodes' zod input/output schemas: text, image, video; optional inputs marked) and checked with the
 * engine's issue codes. The server validates again with the engine itself.
 */

/** The value types that flow between ports. */
export type PortType = 'text' | 'image' | 'video';

export interface PortSpec {
  readonly name: string;
  readonly type: PortType;
  readonly required: boolean;
}

export interface NodeSpec {
  readonly inputs: readonly PortSpec[];
  readonly outputs: readonly PortSpec[];
}

const port = (name: string, type: PortType, required = true): PortSpec => ({ name, type, required });

/** The registered node types and their ports (the engine's port names, in drawing order). */
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

/** The engine's issue codes this checker can raise. */
export type LocalIssueCode =
  | 'UNKNOWN_NODE_TYPE'
  | 'DUPLICATE_NODE_ID'
  | 'UNKNOWN_NODE'
  | 'UNKNOWN_PORT'
  | 'INCOMPATIBLE_PORTS'
  | 'REQUIRED_INPUT_MISSING'
  | 'INPUT_ALREADY_CONNECTED'
  | 'CYCLE';

/** One problem, on the node it concerns (an edge's problem is on its target node). */
export interface LocalIssue {
  readonly code: LocalIssueCode;
  readonly nodeId: string;
  readonly edgeId?: string;
  readonly port?: string;
  /** Values for the message (`issue.<code>` in the dictionaries). */
  readonly values: Readonly<Record<string, string>>;
}

type EdgeLike = {
  readonly id?: string;
  readonly source: string;
  readonly target: string;
  readonly sourceHandle?: string | null;
  readonly targetHandle?: string | null;
};

const specOf = (graph: WorkflowGraphInput, nodeId: string): NodeSpec | undefined => {
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

/** Every problem of a graph, each on its node: what the canvas shows before Run. */
export function validateGraph(graph: WorkflowGraphInput): LocalIssue[] {
  const issues: LocalIssue[] = [];
  const seenIds = new Set<string>();
  for (const node of graph.nodes) {
    if (seenIds.has(node.id)) issues.push({ code: 'DUPLICATE_NODE_ID', nodeId: node.id, values: {} });
    seenIds.add(node.id);
    if (!isStepType(node.type))
      issues.push({ code: 'UNKNOWN_NODE_TYPE', nodeId: node.id, values: { type: node.type } });
  }
  const edges = graph.edges ?? [];
  for (const edge of edges) {
    const sourceSpec = specOf(graph, edge.source);
    const targetSpec = specOf(graph, edge.target);
    const edgeId = edge.id ?? `${edge.source}-${edge.target}`;
    if (sourceSpec === undefined || targetSpec === undefined) {
      const missing = sourceSpec === undefined ? edge.source : edge.target;
      const on = targetSpec === undefined ? edge.source : edge.target;
      issues.push({ code: 'UNKNOWN_NODE', nodeId: on, edgeId, values: { node: missing } });
      continue;
    }
    const out = sourceSpec.outputs.find((p) => p.name === edge.sourceHandle);
    const into = targetSpec.inputs.find((p) => p.name === edge.targetHandle);
    if (out === undefined || into === undefined) {
      issues.push({
        code: 'UNKNOWN_PORT',
        nodeId: edge.target,
        edgeId,
        values: { port: String(out === undefined ? edge.sourceHandle : edge.targetHandle) },
      });
      continue;
    }
    if (out.type !== into.type)
      issues.push({
        code: 'INCOMPATIBLE_PORTS',
        nodeId: edge.target,
        edgeId,
        port: into.name,
        values: { from: out.type, to: into.type, port: into.name },
      });
  }
  for (const node of graph.nodes) {
    if (!isStepType(node.type)) continue;
    for (const input of NODE_SPECS[node.type].inputs) {
      const feeding = edges.filter((edge) => edge.target === node.id && edge.targetHandle === input.name);
      if (feeding.length === 0 && input.required)
        issues.push({
          code: 'REQUIRED_INPUT_MISSING',
          nodeId: node.id,
          port: input.name,
          values: { port: input.name },
        });
      if (feeding.length > 1)
        issues.push({
          code: 'INPUT_ALREADY_CONNECTED',
          nodeId: node.id,
          port: input.name,
          values: { port: input.name },
        });
    }
  }
  const inCycle = new Set<string>();
  for (const edge of edges)
    if (!inCycle.has(edge.source) && reaches(edges, edge.target, edge.source)) {
      inCycle.add(edge.source);
      issues.push({ code: 'CYCLE', nodeId: edge.source, values: {} });
    }
  return issues;
}

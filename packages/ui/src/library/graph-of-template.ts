import type { WorkflowGraphInput } from '../graph/graph-types.ts';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A template's graph as the canvas takes it, or null when it is not a version-1 graph with nodes
 * that each have a string id and type (the server validated it; this guards the cast).
 */
export function graphOfTemplate(graph: Readonly<Record<string, unknown>>): WorkflowGraphInput | null {
  if (graph.version !== 1 || !Array.isArray(graph.nodes)) return null;
  const nodesOk = graph.nodes.every(
    (node: unknown) => isRecord(node) && typeof node.id === 'string' && typeof node.type === 'string',
  );
  if (!nodesOk || (graph.edges !== undefined && !Array.isArray(graph.edges))) return null;
  return graph as unknown as WorkflowGraphInput;
}

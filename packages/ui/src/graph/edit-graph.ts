import type { GraphEdgeInput, StepType, WorkflowGraphInput } from './graph-types.ts';
import { shortVideoGraph } from './short-video-graph.ts';

/** A new node id for a type: `image-2`, `image-3`… (the template's own ids are the bare types). */
export function newNodeId(graph: WorkflowGraphInput, type: StepType): string {
  const ids = new Set(graph.nodes.map((node) => node.id));
  if (!ids.has(type)) return type;
  let n = 2;
  while (ids.has(`${type}-${n}`)) n++;
  return `${type}-${n}`;
}

/** Adds a node of a type with the template's default config, below the others. */
export function addNode(
  graph: WorkflowGraphInput,
  type: StepType,
): { graph: WorkflowGraphInput; id: string } {
  const id = newNodeId(graph, type);
  const template = shortVideoGraph().nodes.find((node) => node.type === type);
  const sameType = graph.nodes.filter((node) => node.type === type);
  const lowest = Math.max(0, ...graph.nodes.map((node) => node.position?.y ?? 0));
  const x = sameType.at(-1)?.position?.x ?? template?.position?.x ?? 0;
  return {
    id,
    graph: {
      ...graph,
      nodes: [
        ...graph.nodes,
        { id, type, position: { x, y: lowest + 300 }, config: { ...template?.config } },
      ],
    },
  };
}

/** Removes nodes and edges by id, with every edge touching a removed node. */
export function removeElements(
  graph: WorkflowGraphInput,
  ids: { readonly nodeIds?: readonly string[]; readonly edgeIds?: readonly string[] },
): WorkflowGraphInput {
  const nodeIds = new Set(ids.nodeIds ?? []);
  const edgeIds = new Set(ids.edgeIds ?? []);
  return {
    ...graph,
    nodes: graph.nodes.filter((node) => !nodeIds.has(node.id)),
    edges: (graph.edges ?? []).filter(
      (edge) => !edgeIds.has(edge.id ?? '') && !nodeIds.has(edge.source) && !nodeIds.has(edge.target),
    ),
  };
}

/** Adds an edge between two ports (its id names both ends). */
export function addEdge(
  graph: WorkflowGraphInput,
  connection: { source: string; target: string; sourceHandle: string; targetHandle: string },
): WorkflowGraphInput {
  const edge: GraphEdgeInput = {
    id: `${connection.source}.${connection.sourceHandle}-${connection.target}.${connection.targetHandle}`,
    ...connection,
  };
  return { ...graph, edges: [...(graph.edges ?? []), edge] };
}

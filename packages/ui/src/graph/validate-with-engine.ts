import { type GraphIssue, type NodeRegistry, validateGraph } from '@vidgenie/engine';
import { createValidationRegistry } from '@vidgenie/nodes/specs';
import type { WorkflowGraphInput } from './graph-types.ts';
import { type LocalIssue, specOf } from './validate-graph.ts';

/** The registry used until the providers are known: `provider` fields accept any id. */
export const DEFAULT_VALIDATION_REGISTRY: NodeRegistry = createValidationRegistry();

/**
 * Every problem of a graph, each on its node: what the canvas shows before Run. The engine's own
 * `validateGraph` over the validation-only registry of `@vidgenie/nodes/specs` (the server nodes'
 * schemas without their Node-only code) checks ports, port types and configs (an empty prompt)
 * exactly as the server does; its issues are put on the nodes they concern. `registry` is the one
 * for the providers the app knows (see `validationRegistryFor`); by default `provider` fields are
 * not checked. The template with an empty prompt gives one issue: `INVALID_CONFIG` on `prompt`, with
 * the engine's message in `values.message`.
 */
export function validateWithEngine(
  graph: WorkflowGraphInput,
  registry: NodeRegistry = DEFAULT_VALIDATION_REGISTRY,
): LocalIssue[] {
  const result = validateGraph(graph, registry);
  if (result.ok) return [];
  const seen = new Set<string>();
  const issues: LocalIssue[] = [];
  for (const issue of result.issues.flatMap((engineIssue) => toLocalIssues(graph, engineIssue))) {
    // An input fed three times is one problem on the canvas, not two.
    const key = JSON.stringify([issue.code, issue.nodeId, issue.port, issue.values]);
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
  }
  return issues;
}

/** The canvas issues of one engine issue: on the node it names, or the node its edge or path leads to. */
function toLocalIssues(graph: WorkflowGraphInput, issue: GraphIssue): LocalIssue[] {
  const edges = graph.edges ?? [];
  const edge = issue.edgeId === undefined ? undefined : edges.find((e) => e.id === issue.edgeId);
  const on = (nodeId: string, values: Record<string, string>): LocalIssue => ({
    code: issue.code,
    nodeId,
    ...(issue.edgeId === undefined ? {} : { edgeId: issue.edgeId }),
    ...(issue.port === undefined ? {} : { port: issue.port }),
    values,
  });
  switch (issue.code) {
    case 'CYCLE':
      return (issue.nodeIds ?? (issue.nodeId === undefined ? [] : [issue.nodeId])).map((id) => on(id, {}));
    case 'UNKNOWN_NODE': {
      if (edge === undefined) return [];
      const known = new Set(graph.nodes.map((node) => node.id));
      const ends = [edge.source, edge.target];
      const missing =
        ends.find((id) => !known.has(id) && issue.message.endsWith(`"${id}".`)) ??
        ends.find((id) => !known.has(id)) ??
        edge.target;
      return [on(ends.find((id) => known.has(id)) ?? missing, { node: missing })];
    }
    case 'UNKNOWN_NODE_TYPE': {
      const type = graph.nodes.find((node) => node.id === issue.nodeId)?.type ?? '';
      return issue.nodeId === undefined ? [] : [on(issue.nodeId, { type })];
    }
    case 'DUPLICATE_NODE_ID':
      return issue.nodeId === undefined ? [] : [on(issue.nodeId, {})];
    case 'UNKNOWN_PORT':
    case 'REQUIRED_INPUT_MISSING':
    case 'INPUT_ALREADY_CONNECTED':
      return issue.nodeId === undefined ? [] : [on(issue.nodeId, { port: issue.port ?? '' })];
    case 'INCOMPATIBLE_PORTS': {
      const from = edge && specOf(graph, edge.source)?.outputs.find((p) => p.name === edge.sourceHandle);
      const into = edge && specOf(graph, edge.target)?.inputs.find((p) => p.name === edge.targetHandle);
      if (issue.nodeId === undefined) return [];
      return [on(issue.nodeId, { from: from?.type ?? '', to: into?.type ?? '', port: issue.port ?? '' })];
    }
    default: {
      // INVALID_CONFIG, INVALID_COST, DUPLICATE_EDGE_ID, MALFORMED_GRAPH, UNSUPPORTED_VERSION: the
      // engine's sentence, on the node named, else the edge's target, else the node of the path.
      const index = issue.path?.[0] === 'nodes' ? issue.path[1] : undefined;
      const nodeId =
        issue.nodeId ??
        edge?.target ??
        (typeof index === 'number' ? graph.nodes[index]?.id : undefined) ??
        graph.nodes[0]?.id;
      if (nodeId === undefined) return [];
      // Shown on the node itself: "Node "prompt" config at text: " would say it twice.
      const message =
        issue.code === 'INVALID_CONFIG' && issue.nodeId === nodeId
          ? issue.message.replace(/^Node "[^"]*" config(?: at [^:]*)?: /, '')
          : issue.message;
      return [on(nodeId, { message })];
    }
  }
}

import type { NodeRegistry } from '../node/node-registry.ts';
import { analyzeGraph } from './analyze-graph.ts';
import type { GraphIssue } from './graph-issue.ts';
import type { WorkflowGraph } from './workflow-graph.ts';

/** The result of {@link validateGraph}. */
export type GraphValidationResult =
  | { readonly ok: true; readonly graph: WorkflowGraph; readonly issues: readonly [] }
  | { readonly ok: false; readonly issues: readonly GraphIssue[] };

/**
 * Checks a graph (as JSON) against a node registry and returns **every** problem at once, each with
 * a code and the ids of the nodes, edges and ports it concerns. Pure: runs in browsers too.
 *
 * @example
 * ```ts
 * import { createNodeRegistry, validateGraph } from '@vidgenie/engine';
 * const result = validateGraph({ version: 1, nodes: [{ id: 'a', type: 'nope' }], edges: [] }, createNodeRegistry([]));
 * if (!result.ok) for (const issue of result.issues) console.log(issue.code, issue.nodeId, issue.message);
 * ```
 */
export function validateGraph(graph: unknown, registry: NodeRegistry): GraphValidationResult {
  const analysis = analyzeGraph(graph, registry);
  return analysis.ok ? { ok: true, graph: analysis.plan.graph, issues: [] } : analysis;
}

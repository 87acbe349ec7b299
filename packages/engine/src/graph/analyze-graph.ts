import type { z } from 'zod';
import type { NodeDefinition } from '../node/node-definition.ts';
import type { NodeRegistry } from '../node/node-registry.ts';
import { analyzeEdges } from './analyze-edges.ts';
import type { ExecutionPlan, PlanBindings, PlanNode } from './execution-plan.ts';
import { findCycles } from './find-cycles.ts';
import type { GraphIssue } from './graph-issue.ts';
import { IdIndex } from './id-index.ts';
import { parseWorkflowGraph } from './parse-workflow-graph.ts';
import { isOptionalPort } from './port-type.ts';
import { GRAPH_FORMAT_VERSION } from './workflow-graph.ts';

/** The result of analysing a graph: every issue, and a plan when there are none. @internal */
export type GraphAnalysis =
  | { readonly ok: true; readonly plan: ExecutionPlan }
  | { readonly ok: false; readonly issues: readonly GraphIssue[] };

/** A node being analysed; once the graph is valid, it is the plan node itself (no second copy). */
interface Candidate {
  readonly index: number;
  readonly id: PlanNode['id'];
  readonly def: NodeDefinition.Any | undefined;
  readonly config: Record<string, unknown>;
  readonly cost: number;
}

/**
 * Validates a graph against a registry and compiles it for execution, collecting every issue.
 * @internal
 */
export function analyzeGraph(input: unknown, registry: NodeRegistry): GraphAnalysis {
  const parsed = parseWorkflowGraph(input);
  if (!parsed.success) return { ok: false, issues: malformed(input, parsed.error) };
  const graph = parsed.data;
  const issues: GraphIssue[] = [];

  const indexById = new IdIndex(graph.nodes);
  const candidates: Candidate[] = [];
  graph.nodes.forEach((node, index) => {
    if (indexById.add(index) >= 0) {
      issues.push({
        code: 'DUPLICATE_NODE_ID',
        nodeId: node.id,
        message: `Two nodes have the id "${node.id}".`,
      });
    }
    const def = registry.has(node.type) ? registry.get(node.type) : undefined;
    let config: Record<string, unknown> = node.config;
    let cost = 0;
    if (def === undefined) {
      issues.push({
        code: 'UNKNOWN_NODE_TYPE',
        nodeId: node.id,
        message: `Node "${node.id}" has the unknown type "${node.type}". Known types: ${registry.types.join(', ')}.`,
      });
    } else {
      const result = def.config.safeParse(node.config);
      if (result.success) {
        config = result.data;
        cost = def.estimateCost?.({ config }) ?? 0;
        if (!Number.isSafeInteger(cost) || cost < 0) {
          issues.push({
            code: 'INVALID_COST',
            nodeId: node.id,
            message: `Node "${node.id}" (${node.type}) estimated a cost of ${String(cost)}; costs are non-negative integers.`,
          });
          cost = 0;
        }
      } else {
        for (const issue of result.error.issues) {
          const path = issue.path.map((p) => (typeof p === 'number' ? p : String(p)));
          issues.push({
            code: 'INVALID_CONFIG',
            nodeId: node.id,
            path,
            message: `Node "${node.id}" config${path.length > 0 ? ` at ${path.join('.')}` : ''}: ${issue.message}`,
          });
        }
      }
    }
    candidates.push({ index, id: node.id, def, config, cost });
  });

  const { bindings, dependents, upstreamCount } = analyzeEdges({
    graph,
    defs: candidates.map((c) => c.def),
    indexById,
    issues,
  });

  for (const { id, index, def } of candidates) {
    if (def === undefined || indexById.get(id) !== index) continue;
    for (const port of requiredPortsOf(def)) {
      if (isBound(bindings, index, port)) continue;
      issues.push({
        code: 'REQUIRED_INPUT_MISSING',
        nodeId: id,
        port,
        message: `Input "${port}" of node "${id}" (${def.type}) is required: connect an output to it.`,
      });
    }
  }

  for (const cycle of findCycles(dependents)) {
    const nodeIds = cycle.map((i) => graph.nodes[i]!.id);
    issues.push({
      code: 'CYCLE',
      nodeIds,
      nodeId: nodeIds[0]!,
      message: `These nodes form a cycle: ${nodeIds.join(' → ')}. Remove an edge between them.`,
    });
  }

  if (issues.length > 0) return { ok: false, issues };
  // No issues: every candidate has a definition, so it is a plan node.
  const nodes = candidates as PlanNode[];
  const byId = {
    get: (id: string) => {
      const index = indexById.get(id);
      return index < 0 ? undefined : nodes[index];
    },
    has: (id: string) => indexById.get(id) >= 0,
  };
  return { ok: true, plan: { graph, nodes, byId, bindings, dependents, upstreamCount } };
}

/** Whether input `port` of node `index` has an edge. */
function isBound(bindings: PlanBindings, index: number, port: string): boolean {
  for (let k = bindings.start[index]!; k < bindings.start[index + 1]!; k++)
    if (bindings.port[k] === port) return true;
  return false;
}

const requiredPorts = new WeakMap<NodeDefinition.Any, readonly string[]>();

/** The input ports of a definition that must be connected (cached: schemas do not change). */
function requiredPortsOf(def: NodeDefinition.Any): readonly string[] {
  let ports = requiredPorts.get(def);
  if (ports === undefined) {
    ports = Object.entries(def.input.shape)
      .filter(([, schema]) => !isOptionalPort(schema as z.ZodType))
      .map(([port]) => port);
    requiredPorts.set(def, ports);
  }
  return ports;
}

function malformed(input: unknown, error: z.ZodError): GraphIssue[] {
  const version =
    typeof input === 'object' && input !== null ? (input as { version?: unknown }).version : undefined;
  if (version !== undefined && version !== GRAPH_FORMAT_VERSION) {
    return [
      {
        code: 'UNSUPPORTED_VERSION',
        path: ['version'],
        message: isNewerVersion(version)
          ? `Graph format version ${version} is newer than this engine reads (version ${GRAPH_FORMAT_VERSION}): open it with a @vidgenie/engine release that reads version ${version}.`
          : `Graph format version ${String(version)} is not supported; this engine reads version ${GRAPH_FORMAT_VERSION}.`,
      },
    ];
  }
  return error.issues.map((issue) => {
    const path = issue.path.map((p) => (typeof p === 'number' ? p : String(p)));
    return {
      code: 'MALFORMED_GRAPH',
      path,
      message: `Graph${path.length > 0 ? ` at ${path.join('.')}` : ''}: ${issue.message}`,
    };
  });
}

/** Whether a graph's `version` is a format version later than the one this engine reads. */
function isNewerVersion(version: unknown): version is number {
  return typeof version === 'number' && Number.isSafeInteger(version) && version > GRAPH_FORMAT_VERSION;
}

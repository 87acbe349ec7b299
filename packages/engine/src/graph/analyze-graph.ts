import type { z } from 'zod';
import type { NodeDefinition } from '../node/node-definition.ts';
import type { NodeRegistry } from '../node/node-registry.ts';
import type { ExecutionPlan, InputBinding, PlanNode } from './execution-plan.ts';
import { findCycles } from './find-cycles.ts';
import type { GraphIssue } from './graph-issue.ts';
import { parseWorkflowGraph } from './parse-workflow-graph.ts';
import { arePortTypesCompatible, isOptionalPort, portTypeOf } from './port-type.ts';
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
  readonly bindings: InputBinding[];
  /** Distinct upstream node indices. */
  readonly upstream: number[];
  /** Distinct downstream node indices. */
  readonly dependents: number[];
  upstreamCount: number;
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

  const indexById = new Map<string, number>();
  const candidates: Candidate[] = [];
  graph.nodes.forEach((node, index) => {
    if (indexById.has(node.id)) {
      issues.push({
        code: 'DUPLICATE_NODE_ID',
        nodeId: node.id,
        message: `Two nodes have the id "${node.id}".`,
      });
    } else indexById.set(node.id, index);
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
    candidates.push({
      index,
      id: node.id,
      def,
      config,
      cost,
      bindings: [],
      upstream: [],
      dependents: [],
      upstreamCount: 0,
    });
  });

  const edgeIds = new Set<string>();
  for (const edge of graph.edges) {
    const knownEdges = edgeIds.size;
    edgeIds.add(edge.id);
    if (edgeIds.size === knownEdges) {
      issues.push({
        code: 'DUPLICATE_EDGE_ID',
        edgeId: edge.id,
        message: `Two edges have the id "${edge.id}".`,
      });
    }
    const source = indexById.get(edge.source);
    const target = indexById.get(edge.target);
    if (source === undefined || target === undefined) {
      for (const id of [edge.source, edge.target]) {
        if (indexById.has(id)) continue;
        issues.push({
          code: 'UNKNOWN_NODE',
          edgeId: edge.id,
          message: `Edge "${edge.id}" refers to the missing node "${id}".`,
        });
      }
      continue;
    }
    const from = candidates[source]!;
    const to = candidates[target]!;
    const outSchema = from.def?.output.shape[edge.sourceHandle] as z.ZodType | undefined;
    const inSchema = to.def?.input.shape[edge.targetHandle] as z.ZodType | undefined;
    if (from.def !== undefined && outSchema === undefined) {
      issues.push(
        unknownPort({
          edgeId: edge.id,
          nodeId: edge.source,
          port: edge.sourceHandle,
          def: from.def,
          side: 'output',
        }),
      );
    }
    if (to.def !== undefined && inSchema === undefined) {
      issues.push(
        unknownPort({
          edgeId: edge.id,
          nodeId: edge.target,
          port: edge.targetHandle,
          def: to.def,
          side: 'input',
        }),
      );
    }
    const already = to.bindings.find((b) => b.port === edge.targetHandle)?.edgeId;
    if (already !== undefined) {
      issues.push({
        code: 'INPUT_ALREADY_CONNECTED',
        edgeId: edge.id,
        nodeId: edge.target,
        port: edge.targetHandle,
        message: `Input "${edge.targetHandle}" of node "${edge.target}" already receives edge "${already}"; an input takes one edge.`,
      });
    }
    if (outSchema !== undefined && inSchema !== undefined) {
      const fromType = portTypeOf(outSchema);
      const toType = portTypeOf(inSchema);
      if (!arePortTypesCompatible({ from: fromType, to: toType })) {
        issues.push({
          code: 'INCOMPATIBLE_PORTS',
          edgeId: edge.id,
          nodeId: edge.target,
          port: edge.targetHandle,
          message: `Edge "${edge.id}" connects output "${edge.sourceHandle}" of "${edge.source}" (${fromType}) to input "${edge.targetHandle}" of "${edge.target}" (${toType}), which takes another type.`,
        });
      }
    }
    to.bindings.push({ edgeId: edge.id, port: edge.targetHandle, source, sourcePort: edge.sourceHandle });
    if (!to.upstream.includes(source)) {
      to.upstream.push(source);
      from.dependents.push(target);
    }
  }

  for (const [id, index] of indexById) {
    const { def, bindings } = candidates[index]!;
    if (def === undefined) continue;
    for (const port of requiredPortsOf(def)) {
      if (bindings.some((b) => b.port === port)) continue;
      issues.push({
        code: 'REQUIRED_INPUT_MISSING',
        nodeId: id,
        port,
        message: `Input "${port}" of node "${id}" (${def.type}) is required: connect an output to it.`,
      });
    }
  }

  for (const cycle of findCycles(candidates.map((c) => c.dependents))) {
    const nodeIds = cycle.map((i) => graph.nodes[i]!.id);
    issues.push({
      code: 'CYCLE',
      nodeIds,
      nodeId: nodeIds[0]!,
      message: `These nodes form a cycle: ${nodeIds.join(' → ')}. Remove an edge between them.`,
    });
  }

  if (issues.length > 0) return { ok: false, issues };
  for (const c of candidates) c.upstreamCount = c.upstream.length;
  // No issues: every candidate has a definition, so it is a plan node.
  const nodes = candidates as PlanNode[];
  const byId = {
    get: (id: string) => {
      const index = indexById.get(id);
      return index === undefined ? undefined : nodes[index];
    },
    has: (id: string) => indexById.has(id),
  };
  return { ok: true, plan: { graph, nodes, byId } };
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

function unknownPort(args: {
  readonly edgeId: string;
  readonly nodeId: string;
  readonly port: string;
  readonly def: NodeDefinition.Any;
  readonly side: 'input' | 'output';
}): GraphIssue {
  const schema = args.side === 'input' ? args.def.input : args.def.output;
  const known = Object.keys(schema.shape);
  return {
    code: 'UNKNOWN_PORT',
    edgeId: args.edgeId,
    nodeId: args.nodeId,
    port: args.port,
    message: `Node "${args.nodeId}" (${args.def.type}) has no ${args.side} "${args.port}". Its ${args.side}s: ${known.length > 0 ? known.join(', ') : 'none'}.`,
  };
}

function malformed(input: unknown, error: z.ZodError): GraphIssue[] {
  const version =
    typeof input === 'object' && input !== null ? (input as { version?: unknown }).version : undefined;
  if (version !== undefined && version !== GRAPH_FORMAT_VERSION) {
    return [
      {
        code: 'UNSUPPORTED_VERSION',
        path: ['version'],
        message: `Graph format version ${String(version)} is not supported; this engine reads version ${GRAPH_FORMAT_VERSION}.`,
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

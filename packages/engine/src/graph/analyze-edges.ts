import type { z } from 'zod';
import type { NodeDefinition } from '../node/node-definition.ts';
import type { Adjacency, PlanBindings } from './execution-plan.ts';
import type { GraphIssue } from './graph-issue.ts';
import { IdIndex } from './id-index.ts';
import { arePortTypesCompatible, portTypeOf } from './port-type.ts';
import type { WorkflowGraph } from './workflow-graph.ts';

/** What {@link analyzeEdges} compiles from a graph's edges. @internal */
export interface EdgeAnalysis {
  readonly bindings: PlanBindings;
  readonly dependents: Adjacency;
  readonly upstreamCount: Int32Array;
}

/**
 * Checks a graph's edges (duplicate ids, missing nodes, unknown ports, inputs fed twice,
 * incompatible port types), pushing issues in edge order, and compiles them into flat bindings and
 * dependents lists. Edges with both ends known become bindings even when they have issues, so
 * later checks (required inputs, cycles) see them. Three passes, over typed arrays: count the
 * bindings of each node, check and place each edge, then place the dependents. @internal
 */
export function analyzeEdges(args: {
  readonly graph: WorkflowGraph;
  /** The definition of each node (by index), when its type is known. */
  readonly defs: readonly (NodeDefinition.Any | undefined)[];
  readonly indexById: IdIndex;
  readonly issues: GraphIssue[];
}): EdgeAnalysis {
  const { defs, indexById, issues } = args;
  const edges = args.graph.edges;
  const n = defs.length;
  const m = edges.length;
  const edgeSource = new Int32Array(m);
  const edgeTarget = new Int32Array(m);
  const start = new Int32Array(n + 1);
  for (let e = 0; e < m; e++) {
    const edge = edges[e]!;
    const source = indexById.get(edge.source);
    const target = indexById.get(edge.target);
    edgeSource[e] = source;
    edgeTarget[e] = target;
    if (source >= 0 && target >= 0) start[target + 1]!++;
  }
  for (let i = 0; i < n; i++) start[i + 1]! += start[i]!;

  const count = start[n]!;
  const source = new Int32Array(count);
  const port = new Array<string>(count);
  const sourcePort = new Array<string>(count);
  /** The edge of each binding, for messages. */
  const bindingEdge = new Int32Array(count);
  /** Where the next binding of each node goes. */
  const next = start.slice(0, n);
  /** Whether an edge is the first from its source to its target (it makes a dependent). */
  const firstLink = new Uint8Array(m);
  const upstreamCount = new Int32Array(n);
  const dependentStart = new Int32Array(n + 1);

  const edgeIds = new IdIndex(edges);
  for (let e = 0; e < m; e++) {
    const edge = edges[e]!;
    if (edgeIds.add(e) >= 0) {
      issues.push({
        code: 'DUPLICATE_EDGE_ID',
        edgeId: edge.id,
        message: `Two edges have the id "${edge.id}".`,
      });
    }
    const from = edgeSource[e]!;
    const to = edgeTarget[e]!;
    if (from < 0 || to < 0) {
      for (const id of [edge.source, edge.target]) {
        if (indexById.get(id) >= 0) continue;
        issues.push({
          code: 'UNKNOWN_NODE',
          edgeId: edge.id,
          message: `Edge "${edge.id}" refers to the missing node "${id}".`,
        });
      }
      continue;
    }
    const fromDef = defs[from];
    const toDef = defs[to];
    const outSchema = fromDef?.output.shape[edge.sourceHandle] as z.ZodType | undefined;
    const inSchema = toDef?.input.shape[edge.targetHandle] as z.ZodType | undefined;
    if (fromDef !== undefined && outSchema === undefined) {
      issues.push(
        unknownPort({
          edgeId: edge.id,
          nodeId: edge.source,
          port: edge.sourceHandle,
          def: fromDef,
          side: 'output',
        }),
      );
    }
    if (toDef !== undefined && inSchema === undefined) {
      issues.push(
        unknownPort({
          edgeId: edge.id,
          nodeId: edge.target,
          port: edge.targetHandle,
          def: toDef,
          side: 'input',
        }),
      );
    }
    let already: string | undefined;
    let first = 1;
    const end = next[to]!;
    for (let k = start[to]!; k < end; k++) {
      if (already === undefined && port[k] === edge.targetHandle) already = edges[bindingEdge[k]!]!.id;
      if (source[k] === from) first = 0;
    }
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
    source[end] = from;
    port[end] = edge.targetHandle;
    sourcePort[end] = edge.sourceHandle;
    bindingEdge[end] = e;
    next[to] = end + 1;
    if (first === 1) {
      firstLink[e] = 1;
      upstreamCount[to]!++;
      dependentStart[from + 1]!++;
    }
  }

  for (let i = 0; i < n; i++) dependentStart[i + 1]! += dependentStart[i]!;
  const items = new Int32Array(dependentStart[n]!);
  const fill = dependentStart.slice(0, n);
  for (let e = 0; e < m; e++) if (firstLink[e] === 1) items[fill[edgeSource[e]!]!++] = edgeTarget[e]!;

  return {
    bindings: { start, source, port, sourcePort },
    dependents: { start: dependentStart, items },
    upstreamCount,
  };
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

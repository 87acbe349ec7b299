import type { z } from 'zod';
import { GRAPH_FORMAT_VERSION, WorkflowGraph } from './workflow-graph.ts';

/**
 * Parses graph JSON with the `WorkflowGraph` schema's exact semantics, faster: a hand-written
 * check handles well-formed graphs (the common case, and what the engine parses on every run) in
 * one allocation-light pass; anything it does not accept goes through zod, which then produces
 * the precise issues. A property test keeps the two in agreement. @internal
 */
export function parseWorkflowGraph(input: unknown): z.ZodSafeParseResult<WorkflowGraph> {
  const fast = fastParse(input);
  return fast === undefined ? WorkflowGraph.safeParse(input) : { success: true, data: fast };
}

type Json = Record<string, unknown>;

/** Plain objects only: anything more exotic takes the zod path. */
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
const isId = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
/** A plain object with string keys only (the schema's records reject symbol keys). */
const isRecord = (value: unknown): value is Json =>
  isObject(value) && Object.getOwnPropertySymbols(value).length === 0;

function fastParse(input: unknown): WorkflowGraph | undefined {
  if (!isObject(input) || input.version !== GRAPH_FORMAT_VERSION || !Array.isArray(input.nodes))
    return undefined;
  const rawEdges = input.edges;
  if (rawEdges !== undefined && !Array.isArray(rawEdges)) return undefined;
  if (input.metadata !== undefined && !isRecord(input.metadata)) return undefined;
  const nodes: Json[] = new Array(input.nodes.length);
  for (let i = 0; i < input.nodes.length; i++) {
    const node: unknown = input.nodes[i];
    if (!isObject(node) || !isId(node.id) || !isId(node.type)) return undefined;
    const { config, position, label } = node;
    if (config !== undefined && !isRecord(config)) return undefined;
    const out: Json = { id: node.id, type: node.type, config: config === undefined ? {} : { ...config } };
    // Like zod, an optional key present with `undefined` stays present.
    if (position !== undefined) {
      if (!isObject(position) || !isFiniteNumber(position.x) || !isFiniteNumber(position.y)) return undefined;
      out.position = { x: position.x, y: position.y };
    } else if ('position' in node) out.position = undefined;
    if (label !== undefined) {
      if (typeof label !== 'string') return undefined;
      out.label = label;
    } else if ('label' in node) out.label = undefined;
    nodes[i] = out;
  }
  const edges: Json[] = new Array(rawEdges?.length ?? 0);
  for (let i = 0; i < edges.length; i++) {
    const edge: unknown = rawEdges![i];
    if (!isObject(edge)) return undefined;
    const { id, source, sourceHandle, target, targetHandle } = edge;
    if (!isId(id) || !isId(source) || !isId(sourceHandle) || !isId(target) || !isId(targetHandle))
      return undefined;
    edges[i] = { id, source, sourceHandle, target, targetHandle };
  }
  const graph: Json = { version: GRAPH_FORMAT_VERSION, nodes, edges };
  if (input.metadata !== undefined) graph.metadata = { ...input.metadata };
  else if ('metadata' in input) graph.metadata = undefined;
  // The brands are type-level only: every id above passed the same check the schema makes.
  return graph as unknown as WorkflowGraph;
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

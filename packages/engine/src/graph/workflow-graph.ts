import { z } from 'zod';
import { EdgeId, NodeId, PortId } from '../ids/ids.ts';

/**
 * The version of the graph JSON format ({@link WorkflowGraph}), carried by every graph as its
 * required `version` field. Saved graphs, templates and checkpoints hold graphs in this format.
 *
 * Adding an optional field is not a new version. A change that makes existing graphs invalid or
 * mean something else is: it bumps this constant, and the engine that does it still reads every
 * older version. A graph of a newer version than the engine reads is refused by `validateGraph`
 * (and `engine.run`, with `GraphValidationError`) with the issue `UNSUPPORTED_VERSION`, whose
 * message names the version and says to upgrade. See `docs/versioning.md`.
 *
 * @example
 * ```ts
 * import { GRAPH_FORMAT_VERSION, WorkflowGraph } from '@vidgenie/engine';
 * const graph = WorkflowGraph.parse({ version: GRAPH_FORMAT_VERSION, nodes: [], edges: [] });
 * ```
 */
export const GRAPH_FORMAT_VERSION = 1;

/** A node in a saved graph: its id, its type, its config and, for canvases, its position. */
export const GraphNode = z.object({
  id: NodeId,
  type: z.string().min(1, 'node type must not be empty'),
  config: z.record(z.string(), z.unknown()).default({}),
  position: z.object({ x: z.number(), y: z.number() }).optional(),
  label: z.string().optional(),
});
/** @see GraphNode */
export type GraphNode = z.output<typeof GraphNode>;

/** An edge: from an output port (`sourceHandle`) to an input port (`targetHandle`). */
export const GraphEdge = z.object({
  id: EdgeId,
  source: NodeId,
  sourceHandle: PortId,
  target: NodeId,
  targetHandle: PortId,
});
/** @see GraphEdge */
export type GraphEdge = z.output<typeof GraphEdge>;

/**
 * The versioned JSON format of a workflow graph. The canvas saves and loads it as is (its field
 * names match React Flow's).
 *
 * @example
 * ```ts
 * import { WorkflowGraph } from '@vidgenie/engine';
 * const graph = WorkflowGraph.parse({
 *   version: 1,
 *   nodes: [{ id: 'a', type: 'hello', config: { name: 'Ada' } }],
 *   edges: [],
 * });
 * ```
 */
export const WorkflowGraph = z.object({
  version: z.literal(GRAPH_FORMAT_VERSION),
  nodes: z.array(GraphNode),
  edges: z.array(GraphEdge).default([]),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
/** A parsed workflow graph. */
export type WorkflowGraph = z.output<typeof WorkflowGraph>;
/** A workflow graph as JSON, before parsing (ids are plain strings, config may be omitted). */
export type WorkflowGraphInput = z.input<typeof WorkflowGraph>;

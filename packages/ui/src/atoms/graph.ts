import { atom } from 'jotai';
import type { GraphNodeInput, WorkflowGraphInput } from '../graph/graph-types.ts';
import { shortVideoGraph } from '../graph/short-video-graph.ts';

/** The graph being edited: the engine's JSON format, sent as is to estimate and execute. */
export const graphAtom = atom<WorkflowGraphInput>(shortVideoGraph());

/** The node whose settings the side panel shows. */
export const selectedNodeIdAtom = atom<string | null>('prompt');

/** A node's config by id (empty when unknown). */
export const configOf = (graph: WorkflowGraphInput, nodeId: string): Readonly<Record<string, unknown>> =>
  graph.nodes.find((node) => node.id === nodeId)?.config ?? {};

/** Merges a patch into one node's config. */
export const patchConfigAtom = atom(
  null,
  (get, set, args: { readonly nodeId: string; readonly patch: Readonly<Record<string, unknown>> }) => {
    const graph = get(graphAtom);
    const nodes = graph.nodes.map(
      (node): GraphNodeInput =>
        node.id === args.nodeId ? { ...node, config: { ...node.config, ...args.patch } } : node,
    );
    set(graphAtom, { ...graph, nodes });
  },
);

/** Stores a node's position after a drag, so a saved graph keeps the layout. */
export const moveNodeAtom = atom(
  null,
  (get, set, args: { readonly nodeId: string; readonly position: { x: number; y: number } }) => {
    const graph = get(graphAtom);
    set(graphAtom, {
      ...graph,
      nodes: graph.nodes.map((node) =>
        node.id === args.nodeId ? { ...node, position: args.position } : node,
      ),
    });
  },
);

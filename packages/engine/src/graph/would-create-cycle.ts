import { DirectedGraph } from 'graphology';
import { willCreateCycle } from 'graphology-dag';

/**
 * Whether adding an edge from `source` to `target` would close a cycle in a graph's edges: what
 * a canvas asks while a connection is being drawn, before the edge exists. Edges may reference
 * nodes by id only; the graph need not be valid otherwise.
 *
 * @example
 * ```ts
 * import { wouldCreateCycle } from '@vidgenie/engine';
 * const edges = [{ source: 'a', target: 'b' }, { source: 'b', target: 'c' }];
 * wouldCreateCycle({ edges, source: 'c', target: 'a' }); // true
 * wouldCreateCycle({ edges, source: 'a', target: 'c' }); // false
 * ```
 */
export function wouldCreateCycle(args: {
  readonly edges: readonly { readonly source: string; readonly target: string }[];
  readonly source: string;
  readonly target: string;
}): boolean {
  if (args.source === args.target) return true;
  const graph = new DirectedGraph();
  for (const edge of args.edges) graph.mergeEdge(edge.source, edge.target);
  graph.mergeNode(args.source);
  graph.mergeNode(args.target);
  return willCreateCycle(graph, args.source, args.target);
}

import { DirectedGraph } from 'graphology';
import { stronglyConnectedComponents } from 'graphology-components';
import type { Adjacency } from './execution-plan.ts';

/**
 * Finds the cycles of a directed graph given as flat adjacency lists over node indices: each
 * returned component lists the indices of the nodes of one cycle (strongly connected component of
 * two or more nodes, or one node with a self-loop). Kahn's algorithm runs first over the flat
 * arrays, so an acyclic graph (the common case) costs O(V + E) without building any graph object;
 * only the nodes Kahn could not order go into a graphology graph for Tarjan's components. @internal
 */
export function findCycles({ start, items }: Adjacency): number[][] {
  const n = start.length - 1;
  const indegree = new Int32Array(n);
  for (let k = 0; k < items.length; k++) indegree[items[k]!]!++;
  const queue = new Int32Array(n);
  let tail = 0;
  for (let i = 0; i < n; i++) if (indegree[i] === 0) queue[tail++] = i;
  for (let head = 0; head < tail; head++) {
    const i = queue[head]!;
    for (let k = start[i]!; k < start[i + 1]!; k++)
      if (--indegree[items[k]!]! === 0) queue[tail++] = items[k]!;
  }
  if (tail === n) return [];

  const graph = new DirectedGraph({ allowSelfLoops: true });
  for (let i = 0; i < n; i++) if (indegree[i]! > 0) graph.addNode(i);
  for (let i = 0; i < n; i++) {
    if (indegree[i] === 0) continue;
    for (let k = start[i]!; k < start[i + 1]!; k++) {
      const t = items[k]!;
      if (indegree[t]! > 0 && !graph.hasDirectedEdge(i, t)) graph.addDirectedEdge(i, t);
    }
  }
  const cycles: number[][] = [];
  for (const component of stronglyConnectedComponents(graph)) {
    const first = component[0]!;
    if (component.length === 1 && !graph.hasDirectedEdge(first, first)) continue;
    cycles.push(component.map(Number));
  }
  return cycles;
}

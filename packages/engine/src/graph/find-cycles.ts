import { DirectedGraph } from 'graphology';
import { stronglyConnectedComponents } from 'graphology-components';

/**
 * Finds the cycles of a directed graph given as adjacency lists over node indices: each returned
 * component lists the indices of the nodes of one cycle (strongly connected component of two or
 * more nodes, or one node with a self-loop). Kahn's algorithm runs first over plain arrays, so an
 * acyclic graph (the common case) costs O(V + E) without building any graph object; only the nodes
 * Kahn could not order go into a graphology graph for Tarjan's components. @internal
 */
export function findCycles(dependents: readonly (readonly number[])[]): number[][] {
  const n = dependents.length;
  const indegree = new Int32Array(n);
  for (const targets of dependents) for (const t of targets) indegree[t]!++;
  const queue = new Int32Array(n);
  let tail = 0;
  for (let i = 0; i < n; i++) if (indegree[i] === 0) queue[tail++] = i;
  for (let head = 0; head < tail; head++) {
    for (const t of dependents[queue[head]!]!) if (--indegree[t]! === 0) queue[tail++] = t;
  }
  if (tail === n) return [];

  const graph = new DirectedGraph({ allowSelfLoops: true });
  for (let i = 0; i < n; i++) if (indegree[i]! > 0) graph.addNode(i);
  for (let i = 0; i < n; i++) {
    if (indegree[i] === 0) continue;
    for (const t of dependents[i]!)
      if (indegree[t]! > 0 && !graph.hasDirectedEdge(i, t)) graph.addDirectedEdge(i, t);
  }
  const cycles: number[][] = [];
  for (const component of stronglyConnectedComponents(graph)) {
    const first = component[0]!;
    if (component.length === 1 && !graph.hasDirectedEdge(first, first)) continue;
    cycles.push(component.map(Number));
  }
  return cycles;
}

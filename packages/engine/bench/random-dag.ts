/**
 * A reproducible random DAG for the overhead benchmark: nodes `0..n-1`, edges only from a lower to a
 * higher index (so it is acyclic by construction), each target input port fed by at most one edge and
 * each edge from a distinct source node (so a node's upstream count equals its edge count).
 */

/** The input ports of the benchmark's no-op node type; a node has at most this many upstream edges. */
export const INPUT_PORTS = ['a', 'b', 'c', 'd'] as const;
/** The single output port of the no-op node type. */
export const OUTPUT_PORT = 'out';

/** One edge: `source`'s output feeds input `port` of `target` (`source < target`). */
export interface DagEdge {
  readonly source: number;
  readonly target: number;
  readonly port: (typeof INPUT_PORTS)[number];
}

/** A random DAG with compact adjacency (CSR) for the schedulers. */
export interface RandomDag {
  readonly nodeCount: number;
  readonly edges: readonly DagEdge[];
  /** `dependents[dependentsStart[i] .. dependentsStart[i + 1])` are the targets of node `i`'s edges. */
  readonly dependentsStart: Int32Array;
  readonly dependents: Int32Array;
  /** Number of upstream edges of each node. */
  readonly indegree: Int32Array;
}

/** Shape statistics of a DAG, printed with the results. */
export interface DagStats {
  readonly edges: number;
  readonly avgInDegree: number;
  readonly roots: number;
  /** Number of nodes on the longest path. */
  readonly depth: number;
  /** Largest number of nodes on one depth level (an upper bound on useful parallelism). */
  readonly maxWidth: number;
}

/** mulberry32: a tiny seeded PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Builds the DAG. Node `i` draws 1..4 upstream nodes (uniformly, mean 2.5; fewer for the first
 * nodes) without replacement from the `window` nodes just before it, so the graph has long chains
 * and a bounded, realistic width rather than being almost flat.
 */
export function randomDag(args: {
  readonly nodeCount: number;
  readonly seed: number;
  readonly window?: number;
}): RandomDag {
  const { nodeCount } = args;
  const window = args.window ?? 256;
  const random = mulberry32(args.seed);
  const edges: DagEdge[] = [];
  const indegree = new Int32Array(nodeCount);
  const outdegree = new Int32Array(nodeCount);
  const picked = new Set<number>();
  for (let target = 1; target < nodeCount; target++) {
    const low = Math.max(0, target - window);
    const available = target - low;
    const want = Math.min(available, 1 + Math.floor(random() * INPUT_PORTS.length));
    picked.clear();
    while (picked.size < want) picked.add(low + Math.floor(random() * available));
    let port = 0;
    for (const source of picked) {
      edges.push({ source, target, port: INPUT_PORTS[port++]! });
      indegree[target]!++;
      outdegree[source]!++;
    }
  }
  const dependentsStart = new Int32Array(nodeCount + 1);
  for (let i = 0; i < nodeCount; i++) dependentsStart[i + 1] = dependentsStart[i]! + outdegree[i]!;
  const fill = dependentsStart.slice(0, nodeCount);
  const dependents = new Int32Array(edges.length);
  for (const edge of edges) dependents[fill[edge.source]!++] = edge.target;
  return { nodeCount, edges, dependentsStart, dependents, indegree };
}

/** Computes the shape statistics of a DAG (its edges all go from lower to higher indices). */
export function dagStats(dag: RandomDag): DagStats {
  const level = new Int32Array(dag.nodeCount);
  let roots = 0;
  let depth = 0;
  for (let i = 0; i < dag.nodeCount; i++) {
    if (dag.indegree[i] === 0) roots++;
    depth = Math.max(depth, level[i]! + 1);
    for (let k = dag.dependentsStart[i]!; k < dag.dependentsStart[i + 1]!; k++) {
      const d = dag.dependents[k]!;
      level[d] = Math.max(level[d]!, level[i]! + 1);
    }
  }
  const width = new Int32Array(depth);
  for (let i = 0; i < dag.nodeCount; i++) width[level[i]!]!++;
  return {
    edges: dag.edges.length,
    avgInDegree: dag.edges.length / dag.nodeCount,
    roots,
    depth,
    maxWidth: Math.max(...width),
  };
}

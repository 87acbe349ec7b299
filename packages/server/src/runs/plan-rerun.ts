import type { WorkflowGraph } from '@vidgenie/engine';
import { canonicalJson } from './canonical-json.ts';

/**
 * Which nodes a rerun reuses, by the engine's rule (`planReuse`): a node is reused when it is
 * neither `fromNodeId` nor downstream of it, completed in the earlier run with the same type and
 * config, and every node feeding it is reused too. Everything else runs again and is charged.
 * The server computes it before the engine does, to hold credits for the rerun nodes only.
 * @internal
 */
export function planRerun(args: {
  readonly graph: WorkflowGraph;
  readonly parentGraph: { readonly nodes?: readonly { id: string; type: string; config?: unknown }[] };
  /** Ids of the nodes that completed in the earlier run. */
  readonly parentCompleted: ReadonlySet<string>;
  readonly fromNodeId: string;
}): { readonly reused: ReadonlySet<string>; readonly rerun: ReadonlySet<string> } {
  const { graph } = args;
  const downstream = new Map<string, string[]>();
  const upstream = new Map<string, string[]>();
  for (const edge of graph.edges) {
    downstream.set(edge.source, [...(downstream.get(edge.source) ?? []), edge.target]);
    upstream.set(edge.target, [...(upstream.get(edge.target) ?? []), edge.source]);
  }
  const forced = new Set<string>();
  const stack = [args.fromNodeId];
  while (stack.length > 0) {
    const id = stack.pop() as string;
    if (forced.has(id)) continue;
    forced.add(id);
    stack.push(...(downstream.get(id) ?? []));
  }
  const before = new Map((args.parentGraph.nodes ?? []).map((node) => [node.id, node]));
  const memo = new Map<string, boolean>();
  const reusable = (id: string): boolean => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    memo.set(id, false); // cycles are refused by validation; never loop
    const node = graph.nodes.find((n) => n.id === id);
    const old = before.get(id);
    const ok =
      node !== undefined &&
      old !== undefined &&
      !forced.has(id) &&
      args.parentCompleted.has(id) &&
      old.type === node.type &&
      canonicalJson(old.config ?? {}) === canonicalJson(node.config ?? {}) &&
      (upstream.get(id) ?? []).every(reusable);
    memo.set(id, ok);
    return ok;
  };
  const reused = new Set<string>();
  const rerun = new Set<string>();
  for (const node of graph.nodes) (reusable(node.id) ? reused : rerun).add(node.id);
  return { reused, rerun };
}

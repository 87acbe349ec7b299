import stringify from 'safe-stable-stringify';
import type { NodeRecord, RunSnapshot } from '../checkpoint/checkpoint-records.ts';
import type { ExecutionPlan } from '../graph/execution-plan.ts';

/**
 * For a rerun: the node records to copy from the parent run. A node is reused when it is neither
 * one of `from` nor downstream of them, completed in the parent with the same type and config, and
 * every node upstream of it is reused too. `forced` (the `from` nodes and everything downstream)
 * must run even when the output cache has their result: the user asked for a new take. @internal
 */
export function planReuse(args: {
  readonly plan: ExecutionPlan;
  readonly parent: RunSnapshot;
  readonly from: ReadonlySet<string>;
}): { readonly reused: NodeRecord[]; readonly forced: ReadonlySet<string> } {
  const { plan, parent } = args;
  const parentNodes = new Map(parent.run.graph.nodes.map((n) => [n.id, n]));
  const parentDone = new Map(parent.nodes.filter((r) => r.status === 'completed').map((r) => [r.nodeId, r]));
  const forced = new Set<number>();
  const stack = plan.nodes.filter((n) => args.from.has(n.id)).map((n) => n.index);
  while (stack.length > 0) {
    const index = stack.pop()!;
    if (forced.has(index)) continue;
    forced.add(index);
    const { start, items } = plan.dependents;
    for (let k = start[index]!; k < start[index + 1]!; k++) stack.push(items[k]!);
  }
  const reusable = new Array<boolean>(plan.nodes.length).fill(false);
  const reused: NodeRecord[] = [];
  for (const index of topologicalOrder(plan)) {
    const node = plan.nodes[index]!;
    const before = parentNodes.get(node.id);
    const record = parentDone.get(node.id);
    const graphNode = plan.graph.nodes[index]!;
    const ok =
      !forced.has(index) &&
      before !== undefined &&
      record !== undefined &&
      before.type === graphNode.type &&
      stringify(before.config) === stringify(graphNode.config) &&
      upstreamReusable(plan, index, reusable);
    reusable[index] = ok;
    if (ok && record !== undefined) {
      reused.push({
        nodeId: node.id,
        status: 'completed',
        attempt: 0,
        output: record.output,
        cost: 0,
        captured: true,
        reused: 'rerun',
      });
    }
  }
  return { reused, forced: new Set([...forced].map((i) => plan.nodes[i]!.id)) };
}

/** Whether every node feeding an input of node `index` is reused. */
function upstreamReusable(plan: ExecutionPlan, index: number, reusable: readonly boolean[]): boolean {
  const { start, source } = plan.bindings;
  for (let k = start[index]!; k < start[index + 1]!; k++) if (!reusable[source[k]!]) return false;
  return true;
}

function topologicalOrder(plan: ExecutionPlan): number[] {
  const remaining = plan.upstreamCount.slice();
  const { start, items } = plan.dependents;
  const order: number[] = [];
  const queue = plan.nodes.filter((n) => remaining[n.index] === 0).map((n) => n.index);
  for (let head = 0; head < queue.length; head++) {
    const index = queue[head]!;
    order.push(index);
    for (let k = start[index]!; k < start[index + 1]!; k++) {
      if (--remaining[items[k]!]! === 0) queue.push(items[k]!);
    }
  }
  return order;
}

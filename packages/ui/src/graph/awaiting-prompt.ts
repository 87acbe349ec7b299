import type { WorkflowGraphInput } from './graph-types.ts';
import type { LocalIssue } from './validate-graph.ts';

const blank = (text: unknown) => typeof text !== 'string' || text.trim() === '';

/**
 * Whether an issue only says that a prompt step has no text yet: how every creation starts, not a
 * mistake to outline in red. The canvas shows it as the next thing to do instead.
 */
export function isAwaitingPrompt(issue: LocalIssue, graph: WorkflowGraphInput): boolean {
  if (issue.code !== 'INVALID_CONFIG') return false;
  const node = graph.nodes.find((candidate) => candidate.id === issue.nodeId);
  return node?.type === 'prompt' && blank(node.config?.text);
}

/**
 * The graph with a stand-in text in each empty prompt: what the estimate is asked for before the
 * creator has typed (a step's price never depends on the words), so the Run button shows the cost
 * from the first screen.
 */
export function withStandInPrompts(graph: WorkflowGraphInput, standIn: string): WorkflowGraphInput {
  if (!graph.nodes.some((node) => node.type === 'prompt' && blank(node.config?.text))) return graph;
  return {
    ...graph,
    nodes: graph.nodes.map((node) =>
      node.type === 'prompt' && blank(node.config?.text)
        ? { ...node, config: { ...node.config, text: standIn } }
        : node,
    ),
  };
}

import { type Atom, atom } from 'jotai';
import { createContext } from 'react';
import { graphAtom } from '../atoms/graph.ts';
import { isAwaitingPrompt } from '../graph/awaiting-prompt.ts';
import { graphIssuesAtom } from '../graph/graph-issues-atom.ts';
import type { LocalIssue } from '../graph/validate-graph.ts';

/**
 * The graph's problems found in the browser by the engine (recomputed on every edit), each on its
 * node and outlined in red; an empty prompt is not one of them (see {@link awaitingPromptAtom}).
 */
export const localIssuesAtom: Atom<readonly LocalIssue[]> = atom((get) => {
  const graph = get(graphAtom);
  return get(graphIssuesAtom).filter((issue) => !isAwaitingPrompt(issue, graph));
});

/** The prompt steps still without text: Run waits for them, and the Run bar says so calmly. */
export const awaitingPromptAtom: Atom<readonly string[]> = atom((get) => {
  const graph = get(graphAtom);
  return get(graphIssuesAtom)
    .filter((issue) => isAwaitingPrompt(issue, graph))
    .map((issue) => issue.nodeId);
});

/** A problem the server reported (400 with node ids), shown on its node until the graph is accepted. */
export interface ServerIssue {
  readonly nodeId: string;
  readonly message: string;
}
export const serverIssuesAtom = atom<readonly ServerIssue[]>([]);

/** The edge selected on the canvas (the Delete key and button remove it). */
export const selectedEdgeIdAtom = atom<string | null>(null);

/** A short status line about the last edit (why a connection was refused, what was added). */
export const canvasStatusAtom = atom<{ readonly text: string; readonly error: boolean } | null>(null);

/** Whether the canvas shows the phone layout (top to bottom): the nodes put their handles on top and bottom. */
export const VerticalLayoutContext = createContext(false);

/** "Rerun from here" on a node: provided by the create page, which starts and follows the new run. */
export const RerunContext = createContext<((nodeId: string) => void) | null>(null);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The node-level issues of an API error's `details.issues`: `GRAPH_INVALID` issues carry a
 * `nodeId`; `VALIDATION_FAILED` ones a path such as `graph.nodes.2.config.text`, mapped to the id.
 */
export function serverIssuesOf(details: unknown, nodeIds: readonly string[]): ServerIssue[] {
  if (!isRecord(details) || !Array.isArray(details.issues)) return [];
  return details.issues.flatMap((issue: unknown): ServerIssue[] => {
    if (!isRecord(issue) || typeof issue.message !== 'string') return [];
    if (typeof issue.nodeId === 'string') return [{ nodeId: issue.nodeId, message: issue.message }];
    const path = Array.isArray(issue.path) ? issue.path.join('.') : issue.path;
    const index = typeof path === 'string' ? /(?:^|\.)nodes\.(\d+)/.exec(path)?.[1] : undefined;
    const nodeId = index === undefined ? undefined : nodeIds[Number(index)];
    return nodeId === undefined ? [] : [{ nodeId, message: issue.message }];
  });
}

/**
 * Graphs are plain JSON (the canvas saves exactly this): nodes with a type and a config, and edges
 * from an output port (`sourceHandle`) to an input port (`targetHandle`). Port names are the keys
 * of the nodes' zod schemas.
 */
import type { WorkflowGraphInput } from '@vidgenie/engine';

/** Two headlines feed one title card. */
export const titleCardGraph = {
  version: 1,
  nodes: [
    { id: 'title', type: 'text.headline', config: { topic: 'embedding vidgenie', style: 'shout' } },
    { id: 'subtitle', type: 'text.headline', config: { topic: 'nodes, credits and resume' } },
    { id: 'card', type: 'card.ascii', config: { width: 40, border: '#' } },
  ],
  edges: [
    { id: 'e1', source: 'title', sourceHandle: 'text', target: 'card', targetHandle: 'title' },
    { id: 'e2', source: 'subtitle', sourceHandle: 'text', target: 'card', targetHandle: 'subtitle' },
  ],
} satisfies WorkflowGraphInput;

/** The same graph with mistakes a user could make on a canvas, to show validation issues. */
export const brokenGraph = {
  version: 1,
  nodes: [
    { id: 'title', type: 'text.headline', config: { topic: 'oops' } },
    { id: 'card', type: 'card.ascii', config: { width: 8 } },
    { id: 'music', type: 'audio.music', config: {} },
  ],
  edges: [{ id: 'e1', source: 'title', sourceHandle: 'body', target: 'card', targetHandle: 'subtitle' }],
} satisfies WorkflowGraphInput;

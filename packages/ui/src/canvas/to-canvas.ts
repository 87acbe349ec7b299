import type { Edge } from '@xyflow/react';
import type { StepNode, WorkflowGraphInput } from '../graph/graph-types.ts';
import { isStepType } from '../graph/graph-types.ts';

/** React Flow nodes for a graph's nodes (the field names already match: id, type, position). */
export function canvasNodesOf(graph: WorkflowGraphInput): StepNode[] {
  return graph.nodes.flatMap((node): StepNode[] => {
    if (!isStepType(node.type)) return [];
    const position = node.position ?? { x: 0, y: 0 };
    // One branch per type keeps the union discriminated without a cast.
    switch (node.type) {
      case 'prompt':
        return [{ id: node.id, type: 'prompt', position, data: { stepType: 'prompt' } }];
      case 'enhance':
        return [{ id: node.id, type: 'enhance', position, data: { stepType: 'enhance' } }];
      case 'image':
        return [{ id: node.id, type: 'image', position, data: { stepType: 'image' } }];
      case 'video':
        return [{ id: node.id, type: 'video', position, data: { stepType: 'video' } }];
      case 'output':
        return [{ id: node.id, type: 'output', position, data: { stepType: 'output' } }];
      default:
        return [];
    }
  });
}

/** React Flow edges for a graph's edges, with the handles named after the ports. */
export function canvasEdgesOf(graph: WorkflowGraphInput): Edge[] {
  return (graph.edges ?? []).map((edge) => ({
    id: edge.id,
    source: edge.source,
    target: edge.target,
    sourceHandle: edge.sourceHandle,
    targetHandle: edge.targetHandle,
  }));
}

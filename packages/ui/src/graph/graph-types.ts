/**
 * The graph and event types the app shares with the engine. Type-only imports: the first page
 * takes no code from `@vidgenie/engine` or `@vidgenie/nodes` (the engine's validation and the
 * nodes' browser-safe specs, `@vidgenie/nodes/specs`, load apart: see `graph-issues-atom.ts`).
 */
import type { RunEvent, RunEventType, WorkflowGraphInput } from '@vidgenie/engine';
import type { ShortVideoTemplateOptions } from '@vidgenie/nodes';
import type { Node } from '@xyflow/react';

export type { RunEvent, RunEventType, WorkflowGraphInput };

/** A node of a graph as JSON. */
export type GraphNodeInput = WorkflowGraphInput['nodes'][number];
/** An edge of a graph as JSON. */
export type GraphEdgeInput = NonNullable<WorkflowGraphInput['edges']>[number];

/** The node types of the short-video template. */
export type StepType = 'prompt' | 'enhance' | 'image' | 'video' | 'output';
export const STEP_TYPES = [
  'prompt',
  'enhance',
  'image',
  'video',
  'output',
] as const satisfies readonly StepType[];

export type ImageSize = NonNullable<ShortVideoTemplateOptions['imageSize']>;
export type VideoDuration = NonNullable<ShortVideoTemplateOptions['durationSeconds']>;
export type Motion = NonNullable<ShortVideoTemplateOptions['motion']>;

/** What a canvas node carries; config and live state are read from atoms by node id. */
export interface StepNodeData extends Record<string, unknown> {
  readonly stepType: StepType;
}

/** The canvas nodes: one React Flow node type per step type. */
export type StepNode = { [K in StepType]: Node<StepNodeData & { readonly stepType: K }, K> }[StepType];

export const isStepType = (type: string): type is StepType =>
  (STEP_TYPES as readonly string[]).includes(type);

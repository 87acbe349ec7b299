import type { ShortVideoTemplateOptions } from '@vidgenie/nodes';
import type { WorkflowGraphInput } from './graph-types.ts';

/**
 * The five-node short-video graph, as `shortVideoTemplate()` of `@vidgenie/nodes` builds it (a test
 * checks they stay equal), with the offline local providers picked so it runs without any key.
 * A copy, so the first page takes no code from `@vidgenie/nodes` (whose index is Node-only).
 */
export function shortVideoGraph(options: ShortVideoTemplateOptions = {}): WorkflowGraphInput {
  return {
    version: 1,
    nodes: [
      { id: 'prompt', type: 'prompt', position: { x: 0, y: 0 }, config: { text: options.prompt ?? '' } },
      {
        id: 'enhance',
        type: 'enhance',
        position: { x: 320, y: 0 },
        config: { provider: options.textProvider ?? 'local-text' },
      },
      {
        id: 'image',
        type: 'image',
        position: { x: 640, y: 0 },
        config: {
          provider: options.imageProvider ?? 'local-image',
          size: options.imageSize ?? 'medium',
          aspectRatio: '9:16',
        },
      },
      {
        id: 'video',
        type: 'video',
        position: { x: 960, y: 0 },
        config: {
          provider: options.videoProvider ?? 'local-video',
          durationSeconds: options.durationSeconds ?? 8,
          motion: options.motion ?? 'medium',
          aspectRatio: '9:16',
        },
      },
      { id: 'output', type: 'output', position: { x: 1280, y: 0 }, config: {} },
    ],
    edges: [
      {
        id: 'prompt-enhance',
        source: 'prompt',
        sourceHandle: 'prompt',
        target: 'enhance',
        targetHandle: 'prompt',
      },
      {
        id: 'enhance-image',
        source: 'enhance',
        sourceHandle: 'prompt',
        target: 'image',
        targetHandle: 'prompt',
      },
      { id: 'image-video', source: 'image', sourceHandle: 'image', target: 'video', targetHandle: 'image' },
      {
        id: 'enhance-video',
        source: 'enhance',
        sourceHandle: 'prompt',
        target: 'video',
        targetHandle: 'prompt',
      },
      { id: 'video-output', source: 'video', sourceHandle: 'video', target: 'output', targetHandle: 'video' },
      { id: 'image-output', source: 'image', sourceHandle: 'image', target: 'output', targetHandle: 'image' },
      {
        id: 'enhance-output',
        source: 'enhance',
        sourceHandle: 'prompt',
        target: 'output',
        targetHandle: 'prompt',
      },
      {
        id: 'enhance-original',
        source: 'enhance',
        sourceHandle: 'original',
        target: 'output',
        targetHandle: 'original',
      },
    ],
  };
}

/** The ports of each step, in drawing order (the engine's port names: handles use them as ids). */
export const STEP_PORTS = {
  prompt: { inputs: [], outputs: ['prompt'] },
  enhance: { inputs: ['prompt'], outputs: ['prompt', 'original'] },
  image: { inputs: ['prompt'], outputs: ['image'] },
  video: { inputs: ['image', 'prompt'], outputs: ['video'] },
  output: { inputs: ['video', 'image', 'prompt', 'original'], outputs: [] },
} as const satisfies Record<string, { inputs: readonly string[]; outputs: readonly string[] }>;

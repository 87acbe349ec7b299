import type { WorkflowGraphInput } from '@vidgenie/engine';

/** Options of {@link shortVideoTemplate}. */
export interface ShortVideoTemplateOptions {
  /** The creator's idea. */
  readonly prompt?: string;
  readonly textProvider?: string;
  readonly imageProvider?: string;
  readonly videoProvider?: string;
  readonly imageSize?: 'small' | 'medium' | 'large';
  readonly durationSeconds?: 8 | 15 | 30 | 60;
  readonly motion?: 'low' | 'medium' | 'high';
}

/**
 * The five-node short-video graph (prompt → enhance → image → video → output) with canvas
 * positions and default config: what the canvas opens with and the server runs.
 *
 * @example
 * ```ts
 * import { shortVideoTemplate } from '@vidgenie/nodes';
 * const graph = shortVideoTemplate({ prompt: 'a red fox in the snow at dawn', durationSeconds: 8 });
 * ```
 */
export function shortVideoTemplate(options: ShortVideoTemplateOptions = {}): WorkflowGraphInput {
  const provider = (id: string | undefined) => (id === undefined ? {} : { provider: id });
  return {
    version: 1,
    nodes: [
      { id: 'prompt', type: 'prompt', position: { x: 0, y: 0 }, config: { text: options.prompt ?? '' } },
      {
        id: 'enhance',
        type: 'enhance',
        position: { x: 320, y: 0 },
        config: { ...provider(options.textProvider) },
      },
      {
        id: 'image',
        type: 'image',
        position: { x: 640, y: 0 },
        config: {
          ...provider(options.imageProvider),
          size: options.imageSize ?? 'medium',
          aspectRatio: '9:16',
        },
      },
      {
        id: 'video',
        type: 'video',
        position: { x: 960, y: 0 },
        config: {
          ...provider(options.videoProvider),
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

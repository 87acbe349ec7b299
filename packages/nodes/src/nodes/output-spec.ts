import { z } from 'zod';
import { ImageRef, TextValue, VideoRef } from '../media/media-ref.ts';
import { defineNodeSpec } from './node-spec.ts';

/**
 * The browser-safe spec of the `output` node: the final video with optional image and prompts in,
 * the video, its thumbnail and its measured facts out.
 *
 * @example
 * ```ts
 * import { outputSpec } from '@vidgenie/nodes/specs';
 * Object.keys(outputSpec.input.shape); // ['video', 'image', 'prompt', 'original']
 * ```
 */
export const outputSpec = defineNodeSpec({
  type: 'output',
  version: 1,
  title: 'Result',
  description: 'The finished video with its thumbnail and metadata.',
  input: z.object({
    video: VideoRef,
    image: ImageRef.optional(),
    prompt: TextValue.optional(),
    original: TextValue.optional(),
  }),
  output: z.object({
    video: VideoRef,
    thumbnail: ImageRef,
    image: ImageRef.optional(),
    prompt: TextValue.optional(),
    original: TextValue.optional(),
    durationSeconds: z.number().positive(),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    bytes: z.number().int().nonnegative(),
  }),
  config: z.object({}),
});

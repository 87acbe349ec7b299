import { defineNode } from '@vidgenie/engine';
import { z } from 'zod';
import { TextValue } from '../media/media-ref.ts';

/** The longest idea a creator may type (PRD §3.2). */
export const MAX_PROMPT_LENGTH = 1000;

/**
 * The creator's idea: trimmed, 1 to 1000 characters. Free.
 *
 * @example
 * ```ts
 * import { promptNode } from '@vidgenie/nodes';
 * promptNode.config.parse({ text: '  a red fox in the snow at dawn ' }); // { text: 'a red fox in the snow at dawn' }
 * ```
 */
export const promptNode = defineNode({
  type: 'prompt',
  version: 1,
  title: 'Prompt',
  description: "The creator's idea.",
  input: z.object({}),
  output: z.object({ prompt: TextValue }),
  config: z.object({
    text: z
      .string({ error: 'Type your idea: the prompt is empty.' })
      .trim()
      .min(1, 'Type your idea: the prompt is empty.')
      .max(MAX_PROMPT_LENGTH, `Shorten your idea to ${MAX_PROMPT_LENGTH} characters or fewer.`),
  }),
  run: ({ config }) => ({ prompt: config.text }),
});

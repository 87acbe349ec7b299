import { z } from 'zod';
import { TextValue } from '../media/media-ref.ts';
import { defineNodeSpec } from './node-spec.ts';

/** The longest idea a creator may type (PRD §3.2). */
export const MAX_PROMPT_LENGTH = 1000;

/**
 * The browser-safe spec of the `prompt` node: no input, a `prompt` text output, and a config
 * `text` trimmed to 1 to 1000 characters.
 *
 * @example
 * ```ts
 * import { promptSpec } from '@vidgenie/nodes/specs';
 * promptSpec.config.safeParse({ text: ' ' }).success; // false: the prompt is empty
 * ```
 */
export const promptSpec = defineNodeSpec({
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
});

import { defineNode } from '@vidgenie/engine';
import { promptSpec } from './prompt-spec.ts';

export { MAX_PROMPT_LENGTH } from './prompt-spec.ts';

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
  ...promptSpec,
  run: ({ config }) => ({ prompt: config.text }),
});

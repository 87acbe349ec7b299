import type { NodeDefinition, ObjectSchema } from '@vidgenie/engine';

/**
 * The browser-safe part of a node definition: its type, version, texts and zod schemas, without
 * `run` or hooks. The server's definition spreads it into `defineNode`; `@vidgenie/nodes/specs`
 * builds a validation-only registry from it.
 */
export type NodeSpec<
  TType extends string = string,
  TInput extends ObjectSchema = ObjectSchema,
  TOutput extends ObjectSchema = ObjectSchema,
  TConfig extends ObjectSchema = ObjectSchema,
> = Pick<
  NodeDefinition<TType, TInput, TOutput, TConfig>,
  'type' | 'version' | 'title' | 'description' | 'input' | 'output' | 'config'
>;

/**
 * Freezes a node spec, keeping its literal type and schema types for `defineNode`.
 *
 * @example
 * ```ts
 * import { defineNodeSpec } from '@vidgenie/nodes/specs';
 * import { z } from 'zod';
 * const spec = defineNodeSpec({
 *   type: 'hello', version: 1, input: z.object({}), output: z.object({}), config: z.object({}),
 * });
 * ```
 */
export function defineNodeSpec<
  const TType extends string,
  TInput extends ObjectSchema,
  TOutput extends ObjectSchema,
  TConfig extends ObjectSchema,
>(spec: NodeSpec<TType, TInput, TOutput, TConfig>): Readonly<NodeSpec<TType, TInput, TOutput, TConfig>> {
  return Object.freeze({ ...spec });
}

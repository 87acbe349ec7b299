import type { NodeDefinition, ObjectSchema } from './node-definition.ts';

/**
 * Defines a node type. Every type flows from the schemas: `run` receives the parsed input and
 * config, and must return what the output schema accepts. The result is a frozen plain object.
 *
 * @example
 * ```ts
 * import { defineNode } from '@vidgenie/engine';
 * import { z } from 'zod';
 *
 * export const shout = defineNode({
 *   type: 'text.shout',
 *   version: 1,
 *   input: z.object({ text: z.string() }),
 *   output: z.object({ text: z.string() }),
 *   config: z.object({ marks: z.number().int().min(0).default(1) }),
 *   estimateCost: () => 1,
 *   run: ({ input, config }) => ({ text: input.text.toUpperCase() + '!'.repeat(config.marks) }),
 * });
 * ```
 */
export function defineNode<
  const TType extends string,
  TInput extends ObjectSchema,
  TOutput extends ObjectSchema,
  TConfig extends ObjectSchema,
  TServices = unknown,
  TState = unknown,
>(
  definition: NodeDefinition<TType, TInput, TOutput, TConfig, TServices, TState>,
): Readonly<NodeDefinition<TType, TInput, TOutput, TConfig, TServices, TState>> {
  if (!Number.isInteger(definition.version) || definition.version < 1) {
    throw new TypeError(`Node type "${definition.type}": version must be a positive integer.`);
  }
  if (definition.type.length === 0) throw new TypeError('A node type must not be empty.');
  return Object.freeze({ ...definition });
}

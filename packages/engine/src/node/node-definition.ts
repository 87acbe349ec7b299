import type { z } from 'zod';
import type { NodeContext } from './node-context.ts';
import type { RetryPolicy } from './retry-policy.ts';

/** A zod object schema: its keys are port names (for input/output) or config fields. */
export type ObjectSchema = z.ZodObject;

declare const servicesMarker: unique symbol;

/** A type-only marker for the host services a node needs; make one with {@link requireServices}. */
export interface ServiceDeclaration<TServices> {
  readonly [servicesMarker]?: TServices;
}

/**
 * Declares the host services a node needs, so its `run` context is typed and the engine can check
 * that the host provides them.
 *
 * @example
 * ```ts
 * import { defineNode, requireServices } from '@vidgenie/engine';
 * import { z } from 'zod';
 * interface Clock { now(): number }
 * export const stamp = defineNode({
 *   type: 'stamp', version: 1,
 *   input: z.object({}), output: z.object({ at: z.number() }), config: z.object({}),
 *   services: requireServices<{ clock: Clock }>(),
 *   run: ({ services }) => ({ at: services.clock.now() }),
 * });
 * ```
 */
export function requireServices<TServices extends object>(): ServiceDeclaration<TServices> {
  return {};
}

/** What cost and secret hooks receive: the node's parsed config. */
export interface NodeConfigArgs<TConfig> {
  readonly config: TConfig;
}

/**
 * A node type: its schemas, its cost, and how it runs. Make one with {@link defineNode}.
 * Input and output port names are the keys of the `input` and `output` schemas.
 */
export interface NodeDefinition<
  TType extends string = string,
  TInput extends ObjectSchema = ObjectSchema,
  TOutput extends ObjectSchema = ObjectSchema,
  TConfig extends ObjectSchema = ObjectSchema,
  TServices = unknown,
  TState = unknown,
> {
  /** The node type, unique in a registry; the discriminant of node unions. */
  readonly type: TType;
  /** The definition's version; bump it when outputs for the same input change (it keys the cache). */
  readonly version: number;
  /** A short human title. */
  readonly title?: string;
  /** What the node does, for people. */
  readonly description?: string;
  /** Input ports. */
  readonly input: TInput;
  /** Output ports. */
  readonly output: TOutput;
  /** The node's configuration. */
  readonly config: TConfig;
  /** The durable state's schema; checked when a resumed node reads its state back. */
  readonly state?: z.ZodType<TState>;
  /** Type-only: the host services the node needs. */
  readonly services?: ServiceDeclaration<TServices>;
  /** Retry policy overrides for this node. */
  readonly retry?: Partial<RetryPolicy>;
  /** The timeout of one attempt, in ms. */
  readonly timeoutMs?: number;
  /** Whether outputs may be reused from the output cache for the same inputs and config. Default true. */
  readonly cacheable?: boolean;
  /** The node's price in credits (a non-negative integer) for a config. Free when absent. */
  estimateCost?(args: NodeConfigArgs<z.output<TConfig>>): number;
  /** The secrets (e.g. provider keys) the node will ask for with this config. */
  requiredSecrets?(args: NodeConfigArgs<z.output<TConfig>>): readonly string[];
  /** A key for per-key concurrency limits (e.g. a provider id), or undefined for none. */
  concurrencyKey?(args: NodeConfigArgs<z.output<TConfig>>): string | undefined;
  /** Does the work. Returns the output (checked against the output schema). */
  run(
    ctx: NodeContext<z.output<TInput>, z.output<TConfig>, TServices, TState>,
  ): Promise<z.input<TOutput>> | z.input<TOutput>;
}

/** Helpers over erased node definitions. */
export declare namespace NodeDefinition {
  /** Any node definition, with its types erased. */
  type Any = NodeDefinition<string, ObjectSchema, ObjectSchema, ObjectSchema, unknown, unknown>;
}

/** The parsed input type of a node definition (port name to value). */
export type InferNodeInput<TDef> = TDef extends NodeDefinition<string, infer I> ? z.output<I> : never;
/** The output type of a node definition. */
export type InferNodeOutput<TDef> =
  TDef extends NodeDefinition<string, ObjectSchema, infer O> ? z.output<O> : never;
/** The parsed config type of a node definition. */
export type InferNodeConfig<TDef> =
  TDef extends NodeDefinition<string, ObjectSchema, ObjectSchema, infer C> ? z.output<C> : never;
/** The config a graph may hold for a node definition (before defaults are applied). */
export type InferNodeConfigInput<TDef> =
  TDef extends NodeDefinition<string, ObjectSchema, ObjectSchema, infer C> ? z.input<C> : never;
/** The services a node definition needs. */
export type InferNodeServices<TDef> =
  TDef extends NodeDefinition<string, ObjectSchema, ObjectSchema, ObjectSchema, infer S> ? S : never;

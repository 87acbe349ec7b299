import type { z } from 'zod';
import { EngineError } from '../errors/engine-error.ts';
import { SchemaValidationError } from '../errors/schema-validation-error.ts';
import { NodeId, RunId } from '../ids/ids.ts';
import type { NodeDefinition, ObjectSchema } from '../node/node-definition.ts';

/** Options of {@link runNode}. */
export interface RunNodeOptions<TInput, TConfig, TServices, TState> {
  readonly input: TInput;
  readonly config?: TConfig;
  /** Secrets by name; a missing one fails like it would in the engine. */
  readonly secrets?: Readonly<Record<string, string>>;
  readonly services?: TServices;
  /** Durable state as a resumed node would find it. */
  readonly state?: TState;
  readonly signal?: AbortSignal;
  readonly attempt?: number;
}

/** What {@link runNode} returns. */
export interface RunNodeResult<TOutput, TState> {
  /** The output, parsed by the output schema. */
  readonly output: TOutput;
  /** Every progress report, in order. */
  readonly progress: readonly { readonly fraction: number; readonly message?: string }[];
  /** The durable state after the run. */
  readonly state: TState | undefined;
  /** Every durable state written, in order. */
  readonly stateWrites: readonly TState[];
}

/**
 * Runs one node outside any graph, the way the engine would run one attempt: config, input and
 * output go through their schemas, secrets and state behave as in the engine. For node authors' tests.
 *
 * @example
 * ```ts
 * import { defineNode } from '@vidgenie/engine';
 * import { runNode } from '@vidgenie/engine/testing';
 * import { z } from 'zod';
 * const shout = defineNode({
 *   type: 'shout', version: 1, input: z.object({ text: z.string() }), output: z.object({ text: z.string() }),
 *   config: z.object({}), run: ({ input }) => ({ text: input.text.toUpperCase() }),
 * });
 * const { output } = await runNode(shout, { input: { text: 'hi' } });
 * console.log(output.text); // HI
 * ```
 */
export async function runNode<
  TType extends string,
  TInput extends ObjectSchema,
  TOutput extends ObjectSchema,
  TConfig extends ObjectSchema,
  TServices,
  TState,
>(
  def: NodeDefinition<TType, TInput, TOutput, TConfig, TServices, TState>,
  options: RunNodeOptions<z.input<TInput>, z.input<TConfig>, TServices, TState>,
): Promise<RunNodeResult<z.output<TOutput>, TState>> {
  const config = def.config.safeParse(options.config ?? {});
  if (!config.success)
    throw SchemaValidationError.fromZod({ target: 'config', error: config.error, nodeType: def.type });
  const input = def.input.safeParse(options.input);
  if (!input.success)
    throw SchemaValidationError.fromZod({ target: 'input', error: input.error, nodeType: def.type });
  const progress: { fraction: number; message?: string }[] = [];
  const stateWrites: TState[] = [];
  let state = options.state;
  const raw = await def.run({
    input: input.data,
    config: config.data,
    signal: options.signal ?? new AbortController().signal,
    attempt: options.attempt ?? 1,
    runId: RunId.parse('test-run'),
    nodeId: NodeId.parse('test-node'),
    progress: (fraction, message) =>
      progress.push(message === undefined ? { fraction } : { fraction, message }),
    secrets: {
      get: async (name) => {
        const value = options.secrets?.[name];
        if (value === undefined || value === '') {
          throw new EngineError('MISSING_SECRET', `No secret "${name}" is available for node "test-node".`, {
            retryable: false,
          });
        }
        return value;
      },
    },
    services: options.services as TServices,
    state: {
      get: () => state,
      set: async (value) => {
        state = value;
        stateWrites.push(value);
      },
    },
  });
  const output = def.output.safeParse(raw);
  if (!output.success)
    throw SchemaValidationError.fromZod({ target: 'output', error: output.error, nodeType: def.type });
  return { output: output.data, progress, state, stateWrites };
}

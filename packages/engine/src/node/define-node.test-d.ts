import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import type { NodeId, RunId } from '../ids/ids.ts';
import { createEngine } from '../run/create-engine.ts';
import { defineNode } from './define-node.ts';
import type { DurableState } from './node-context.ts';
import {
  type InferNodeConfig,
  type InferNodeConfigInput,
  type InferNodeInput,
  type InferNodeOutput,
  type InferNodeServices,
  type NodeDefinition,
  requireServices,
  type ServiceDeclaration,
} from './node-definition.ts';
import { type AnyNodeOf, createNodeRegistry } from './node-registry.ts';

interface Clock {
  now(): number;
}

const image = defineNode({
  type: 'image.generate',
  version: 1,
  input: z.object({ prompt: z.string(), seed: z.number().optional() }),
  output: z.object({ url: z.string(), width: z.number() }),
  config: z.object({
    size: z.enum(['small', 'large']).default('small'),
    steps: z.number().int().default(20),
    model: z.string(),
  }),
  state: z.object({ jobId: z.string() }),
  estimateCost: ({ config }) => {
    expectTypeOf(config.size).toEqualTypeOf<'small' | 'large'>();
    return config.steps;
  },
  concurrencyKey: ({ config }) => config.model,
  run: (ctx) => {
    expectTypeOf(ctx.input).toEqualTypeOf<{ prompt: string; seed?: number | undefined }>();
    expectTypeOf(ctx.input.prompt).toBeString();
    expectTypeOf(ctx.input.seed).toEqualTypeOf<number | undefined>();
    // Defaults make config fields non-optional inside `run`.
    expectTypeOf(ctx.config).toEqualTypeOf<{ size: 'small' | 'large'; steps: number; model: string }>();
    expectTypeOf(ctx.config.steps).toBeNumber();
    expectTypeOf(ctx.state).toEqualTypeOf<DurableState<{ jobId: string }>>();
    expectTypeOf(ctx.state.get()).toEqualTypeOf<{ jobId: string } | undefined>();
    expectTypeOf(ctx.runId).toEqualTypeOf<RunId>();
    expectTypeOf(ctx.nodeId).toEqualTypeOf<NodeId>();
    expectTypeOf(ctx.signal).toEqualTypeOf<AbortSignal>();
    expectTypeOf(ctx.attempt).toBeNumber();
    expectTypeOf(ctx.secrets.get).returns.toEqualTypeOf<Promise<string>>();
    expectTypeOf(ctx.services).toBeUnknown();
    // @ts-expect-error -- not an input port
    void ctx.input.negativePrompt;
    // @ts-expect-error -- not a config field
    void ctx.config.quality;
    return { url: `https://img.example/${ctx.input.prompt}`, width: 512 };
  },
});

const stamp = defineNode({
  type: 'stamp',
  version: 1,
  input: z.object({}),
  output: z.object({ at: z.number() }),
  config: z.object({}),
  services: requireServices<{ clock: Clock }>(),
  run: ({ services }) => {
    expectTypeOf(services).toEqualTypeOf<{ clock: Clock }>();
    return { at: services.clock.now() };
  },
});

describe('defineNode inference', () => {
  it('keeps the literal node type', () => {
    expectTypeOf(image.type).toEqualTypeOf<'image.generate'>();
    expectTypeOf(stamp.type).toEqualTypeOf<'stamp'>();
  });

  it('types run from the schemas (checked inside run above)', () => {
    expectTypeOf(image.run).parameter(0).toHaveProperty('input');
  });

  it('rejects a run returning the wrong output shape', () => {
    defineNode({
      type: 'wrong.type',
      version: 1,
      input: z.object({}),
      output: z.object({ url: z.string(), width: z.number() }),
      config: z.object({}),
      // @ts-expect-error -- width must be a number
      run: () => ({ url: 'x', width: 'wide' }),
    });
    defineNode({
      type: 'wrong.missing',
      version: 1,
      input: z.object({}),
      output: z.object({ url: z.string(), width: z.number() }),
      config: z.object({}),
      // @ts-expect-error -- width is missing
      run: () => ({ url: 'x' }),
    });
    defineNode({
      type: 'wrong.async',
      version: 1,
      input: z.object({}),
      output: z.object({ url: z.string() }),
      config: z.object({}),
      // @ts-expect-error -- an async run must resolve to the output shape too
      run: async () => ({ href: 'x' }),
    });
  });

  it('accepts the output schema input type (before defaults and transforms)', () => {
    defineNode({
      type: 'defaults',
      version: 1,
      input: z.object({}),
      output: z.object({ url: z.string(), width: z.number().default(512) }),
      config: z.object({}),
      run: () => ({ url: 'x' }),
    });
  });

  it('Infer helpers give the parsed input, output and config, and the config as stored in graphs', () => {
    expectTypeOf<InferNodeInput<typeof image>>().toEqualTypeOf<{
      prompt: string;
      seed?: number | undefined;
    }>();
    expectTypeOf<InferNodeOutput<typeof image>>().toEqualTypeOf<{ url: string; width: number }>();
    expectTypeOf<InferNodeConfig<typeof image>>().toEqualTypeOf<{
      size: 'small' | 'large';
      steps: number;
      model: string;
    }>();
    expectTypeOf<InferNodeConfigInput<typeof image>>().toEqualTypeOf<{
      size?: 'small' | 'large' | undefined;
      steps?: number | undefined;
      model: string;
    }>();
    expectTypeOf<InferNodeServices<typeof stamp>>().toEqualTypeOf<{ clock: Clock }>();
    expectTypeOf<InferNodeServices<typeof image>>().toBeUnknown();
    expectTypeOf<InferNodeInput<string>>().toBeNever();
  });

  it('requireServices<T>() types ctx.services', () => {
    expectTypeOf(requireServices<{ clock: Clock }>()).toEqualTypeOf<ServiceDeclaration<{ clock: Clock }>>();
    defineNode({
      type: 'services.misuse',
      version: 1,
      input: z.object({}),
      output: z.object({ at: z.number() }),
      config: z.object({}),
      services: requireServices<{ clock: Clock }>(),
      // @ts-expect-error -- the declared services have no `storage`
      run: ({ services }) => ({ at: services.storage.now() }),
    });
  });
});

describe('registry typing', () => {
  const registry = createNodeRegistry([image, stamp]);

  it('registry.get with a literal returns that definition type', () => {
    expectTypeOf(registry.get('image.generate')).toEqualTypeOf<typeof image>();
    expectTypeOf(registry.get('stamp')).toEqualTypeOf<typeof stamp>();
    expectTypeOf<InferNodeOutput<ReturnType<typeof registry.get<'stamp'>>>>().toEqualTypeOf<{ at: number }>();
  });

  it('registry.get with any string returns an erased definition', () => {
    const type: string = 'stamp';
    expectTypeOf(registry.get(type)).toEqualTypeOf<NodeDefinition.Any>();
  });

  it('types and has() narrow to the registered types', () => {
    expectTypeOf(registry.types).toEqualTypeOf<readonly ('image.generate' | 'stamp')[]>();
    const type: string = 'stamp';
    if (registry.has(type)) expectTypeOf(type).toEqualTypeOf<'image.generate' | 'stamp'>();
  });

  it('with() widens the registry; AnyNodeOf gives the definition union', () => {
    const base = createNodeRegistry([image]);
    const more = base.with([stamp]);
    expectTypeOf<AnyNodeOf<typeof base>>().toEqualTypeOf<typeof image>();
    expectTypeOf<AnyNodeOf<typeof more>>().toEqualTypeOf<typeof image | typeof stamp>();
    expectTypeOf(more.get('stamp')).toEqualTypeOf<typeof stamp>();
  });

  it('createEngine checks the services against what the nodes need', () => {
    createEngine({ registry, services: { clock: { now: () => 1 } } });
    // @ts-expect-error -- clock must have now()
    createEngine({ registry, services: { clock: 42 } });
  });
});

import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { EngineError } from '../errors/engine-error.ts';
import { SchemaValidationError } from '../errors/schema-validation-error.ts';
import { defineNode } from '../node/define-node.ts';
import { requireServices } from '../node/node-definition.ts';
import { runNode } from './run-node.ts';

interface Job {
  jobId: string;
  polls: number;
}

const render = defineNode({
  type: 'video.render',
  version: 1,
  input: z.object({ prompt: z.string().trim().min(1), seconds: z.coerce.number().int().positive() }),
  output: z.object({ url: z.string().url(), seconds: z.number() }),
  config: z.object({
    quality: z.enum(['draft', 'final']).default('draft'),
    fps: z.number().int().default(24),
  }),
  state: z.object({ jobId: z.string(), polls: z.number() }),
  services: requireServices<{ cdn: { base: string } }>(),
  run: async ({ input, config, progress, state, secrets, services, attempt, runId, nodeId }) => {
    const key = await secrets.get('RENDER_KEY');
    const job = state.get() ?? { jobId: `job-${key.length}`, polls: 0 };
    await state.set({ ...job, polls: job.polls + 1 });
    progress(0.5, 'rendering');
    await state.set({ ...job, polls: job.polls + 2 });
    progress(1);
    return {
      url: `${services.cdn.base}/${job.jobId}/${input.prompt}-${config.quality}-${config.fps}-${attempt}-${runId}-${nodeId}.mp4`,
      seconds: input.seconds,
    };
  },
});

const services = { cdn: { base: 'https://cdn.example' } };

describe('runNode', () => {
  it('parses config (with defaults) and input, and returns the parsed output', async () => {
    const result = await runNode(render, {
      input: { prompt: '  a cat  ', seconds: '5' },
      secrets: { RENDER_KEY: 'abc' },
      services,
    });
    expect(result.output).toEqual({
      url: 'https://cdn.example/job-3/a cat-draft-24-1-test-run-test-node.mp4',
      seconds: 5,
    });
  });

  it('uses the given config, attempt and signal', async () => {
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const probe = defineNode({
      type: 'probe',
      version: 1,
      input: z.object({}),
      output: z.object({ attempt: z.number(), quality: z.string() }),
      config: z.object({ quality: z.enum(['draft', 'final']).default('draft') }),
      run: ({ attempt, config, signal }) => {
        seen = signal;
        return { attempt, quality: config.quality };
      },
    });
    const result = await runNode(probe, {
      input: {},
      config: { quality: 'final' },
      attempt: 3,
      signal: controller.signal,
    });
    expect(result.output).toEqual({ attempt: 3, quality: 'final' });
    expect(seen).toBe(controller.signal);
  });

  it('collects progress reports and durable state writes, in order', async () => {
    const result = await runNode(render, {
      input: { prompt: 'a cat', seconds: 5 },
      secrets: { RENDER_KEY: 'abc' },
      services,
    });
    expect(result.progress).toEqual([{ fraction: 0.5, message: 'rendering' }, { fraction: 1 }]);
    expect(result.stateWrites).toEqual<Job[]>([
      { jobId: 'job-3', polls: 1 },
      { jobId: 'job-3', polls: 2 },
    ]);
    expect(result.state).toEqual({ jobId: 'job-3', polls: 2 });
  });

  it('hands a resumed node its earlier durable state', async () => {
    const result = await runNode(render, {
      input: { prompt: 'a cat', seconds: 5 },
      secrets: { RENDER_KEY: 'abc' },
      services,
      state: { jobId: 'job-from-before', polls: 7 },
    });
    expect(result.output.url).toContain('/job-from-before/');
    expect(result.state).toEqual({ jobId: 'job-from-before', polls: 9 });
  });

  it('rejects invalid input with SchemaValidationError (target input) without running the node', async () => {
    const run = vi.fn(() => ({ url: 'https://x.example/a', seconds: 1 }));
    const node = defineNode({ ...render, run });
    const error = await runNode(node, { input: { prompt: '   ', seconds: -1 }, services }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SchemaValidationError);
    const schemaError = error as SchemaValidationError;
    expect(schemaError.code).toBe('SCHEMA_VALIDATION');
    expect(schemaError.target).toBe('input');
    expect(schemaError.issues.map((i) => i.path)).toEqual([['prompt'], ['seconds']]);
    expect(schemaError.message).toContain('video.render input is invalid');
    expect(run).not.toHaveBeenCalled();
  });

  it('rejects invalid config with SchemaValidationError (target config)', async () => {
    const error = await runNode(render, {
      input: { prompt: 'a cat', seconds: 5 },
      config: { quality: 'ultra' as 'final' },
      services,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaValidationError);
    expect((error as SchemaValidationError).target).toBe('config');
    expect((error as SchemaValidationError).issues.map((i) => i.path)).toEqual([['quality']]);
  });

  it('rejects an output that does not match the schema with SchemaValidationError (target output)', async () => {
    const liar = defineNode({
      type: 'liar',
      version: 1,
      input: z.object({}),
      output: z.object({ url: z.string().url() }),
      config: z.object({}),
      run: () => ({ url: 'not a url' }),
    });
    const error = await runNode(liar, { input: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaValidationError);
    expect((error as SchemaValidationError).target).toBe('output');
    expect((error as SchemaValidationError).issues.map((i) => i.path)).toEqual([['url']]);
  });

  it('a secret that is absent (or empty) rejects with MISSING_SECRET', async () => {
    for (const secrets of [undefined, {}, { RENDER_KEY: '' }, { OTHER: 'x' }]) {
      const error = await runNode(render, {
        input: { prompt: 'a cat', seconds: 5 },
        services,
        ...(secrets === undefined ? {} : { secrets }),
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EngineError);
      expect((error as EngineError).code).toBe('MISSING_SECRET');
      expect((error as EngineError).retryable).toBe(false);
      expect((error as EngineError).message).toContain('RENDER_KEY');
    }
  });

  it("passes errors thrown by the node's run through unchanged", async () => {
    const boom = new Error('provider exploded');
    const failing = defineNode({
      type: 'failing',
      version: 1,
      input: z.object({}),
      output: z.object({}),
      config: z.object({}),
      run: () => {
        throw boom;
      },
    });
    await expect(runNode(failing, { input: {} })).rejects.toBe(boom);
  });
});

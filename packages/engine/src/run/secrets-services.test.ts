import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createMemoryCheckpointStore } from '../checkpoint/memory-checkpoint-store.ts';
import type { RunEvent } from '../events/run-events.ts';
import { defineNode } from '../node/define-node.ts';
import { requireServices } from '../node/node-definition.ts';
import { createNodeRegistry } from '../node/node-registry.ts';
import { createEngine } from './create-engine.ts';
import type { SecretsResolver } from './engine-options.ts';

const keyed = defineNode({
  type: 'keyed',
  version: 1,
  input: z.object({}),
  output: z.object({ keyLength: z.number() }),
  config: z.object({ secret: z.string().default('OPENAI_KEY') }),
  requiredSecrets: ({ config }) => [config.secret],
  run: async ({ secrets, config }) => ({ keyLength: (await secrets.get(config.secret)).length }),
});

const one = (type: string, config: Record<string, unknown> = {}) => ({
  version: 1,
  nodes: [{ id: 'n', type, config }],
  edges: [],
});

describe('secrets', () => {
  it('ctx.secrets.get resolves through the engine resolver, which receives the run, node and name', async () => {
    const secrets = vi.fn<SecretsResolver>(({ name }) => (name === 'OPENAI_KEY' ? 'sk-test-123' : undefined));
    const store = createMemoryCheckpointStore();
    const engine = createEngine({ registry: createNodeRegistry([keyed]), secrets, store });
    const events: RunEvent[] = [];
    const handle = engine.start(one('keyed'), { onEvent: (e) => events.push(e) });
    const outcome = await handle.result;

    expect(outcome.status).toBe('completed');
    expect(outcome.outputs).toEqual({ n: { keyLength: 11 } });
    expect(secrets).toHaveBeenCalledTimes(1);
    const request = secrets.mock.calls[0]?.[0];
    expect(request).toMatchObject({
      runId: handle.runId,
      nodeId: 'n',
      nodeType: 'keyed',
      name: 'OPENAI_KEY',
    });
    expect(request?.signal).toBeInstanceOf(AbortSignal);
    // The engine never stores or reports the secret.
    expect(JSON.stringify(events)).not.toContain('sk-test-123');
    expect(JSON.stringify(await store.loadRun({ runId: handle.runId }))).not.toContain('sk-test-123');
  });

  it('an async resolver works too', async () => {
    const engine = createEngine({
      registry: createNodeRegistry([keyed]),
      secrets: async ({ name }) => `value-of-${name}`,
    });
    const outcome = await engine.run(one('keyed', { secret: 'ELEVEN' }));
    expect(outcome.outputs).toEqual({ n: { keyLength: 'value-of-ELEVEN'.length } });
  });

  it.each([
    ['the resolver has no value', (() => undefined) as SecretsResolver],
    ['the resolver returns an empty string', (() => '') as SecretsResolver],
    ['there is no resolver', undefined],
  ])('a missing secret fails the node with MISSING_SECRET, without retries, when %s', async (_, secrets) => {
    const run = vi.fn(async ({ secrets: s }: { secrets: { get(name: string): Promise<string> } }) => ({
      keyLength: (await s.get('OPENAI_KEY')).length,
    }));
    const node = defineNode({ ...keyed, run });
    const engine = createEngine({
      registry: createNodeRegistry([node]),
      retry: { maxAttempts: 3, initialDelayMs: 1 },
      ...(secrets === undefined ? {} : { secrets }),
    });
    const events: RunEvent[] = [];
    const outcome = await engine.run(one('keyed'), { onEvent: (e) => events.push(e) });

    expect(outcome.status).toBe('failed');
    if (outcome.status !== 'failed') return;
    expect(outcome.error.code).toBe('MISSING_SECRET');
    expect(outcome.error.retryable).toBe(false);
    expect(outcome.error.message).toContain('OPENAI_KEY');
    expect(outcome.nodeId).toBe('n');
    expect(run).toHaveBeenCalledTimes(1);
    expect(events.filter((e) => e.type === 'node.retrying')).toEqual([]);
  });
});

describe('services', () => {
  it("ctx.services is the engine's services object", async () => {
    interface Storage {
      put(key: string, value: string): Promise<string>;
    }
    const put = vi.fn(async (key: string) => `https://cdn.example/${key}`);
    const services = { storage: { put } satisfies Storage };
    let seen: unknown;
    const upload = defineNode({
      type: 'upload',
      version: 1,
      input: z.object({}),
      output: z.object({ url: z.string() }),
      config: z.object({}),
      services: requireServices<{ storage: Storage }>(),
      run: async (ctx) => {
        seen = ctx.services;
        return { url: await ctx.services.storage.put('clip.mp4', 'bytes') };
      },
    });
    const engine = createEngine({ registry: createNodeRegistry([upload]), services });
    const outcome = await engine.run(one('upload'));
    expect(seen).toBe(services);
    expect(put).toHaveBeenCalledWith('clip.mp4', 'bytes');
    expect(outcome.outputs).toEqual({ n: { url: 'https://cdn.example/clip.mp4' } });
  });
});

describe('concurrency limits', () => {
  /** Nodes that count how many run at once, overall and per provider. */
  function counting() {
    let active = 0;
    let maxActive = 0;
    const starts: string[] = [];
    const perKey = new Map<string, { active: number; max: number }>();
    const node = defineNode({
      type: 'busy',
      version: 1,
      input: z.object({}),
      output: z.object({}),
      config: z.object({ provider: z.string().optional() }),
      concurrencyKey: ({ config }) => config.provider,
      run: async ({ config, nodeId }) => {
        starts.push(nodeId);
        const key = config.provider ?? 'none';
        const k = perKey.get(key) ?? { active: 0, max: 0 };
        perKey.set(key, k);
        active++;
        k.active++;
        maxActive = Math.max(maxActive, active);
        k.max = Math.max(k.max, k.active);
        await new Promise((r) => setTimeout(r, 5));
        active--;
        k.active--;
        return {};
      },
    });
    return {
      node,
      max: () => maxActive,
      maxOf: (key: string) => perKey.get(key)?.max ?? 0,
      starts,
    };
  }

  const many = (providers: (string | undefined)[], prefix = 'n') => ({
    version: 1,
    nodes: providers.map((provider, i) => ({
      id: `${prefix}${i}`,
      type: 'busy',
      config: provider === undefined ? {} : { provider },
    })),
    edges: [],
  });

  it('at most `concurrency` nodes of a run run at once', async () => {
    const c = counting();
    const engine = createEngine({ registry: createNodeRegistry([c.node]), concurrency: 2 });
    const outcome = await engine.run(
      many([undefined, undefined, undefined, undefined, undefined, undefined]),
    );
    expect(outcome.status).toBe('completed');
    expect(c.max()).toBe(2);
  });

  it('without a limit, independent nodes run in parallel (default 8)', async () => {
    const c = counting();
    const engine = createEngine({ registry: createNodeRegistry([c.node]) });
    await engine.run(many(Array.from({ length: 10 }, () => undefined)));
    expect(c.max()).toBe(8);
  });

  it('keyConcurrency: 1 runs one node per concurrency key at a time; other keys proceed', async () => {
    const c = counting();
    const engine = createEngine({ registry: createNodeRegistry([c.node]), keyConcurrency: 1 });
    const outcome = await engine.run(many(['p1', 'p1', 'p1', 'p1', 'p2', 'p2', 'p2']));
    expect(outcome.status).toBe('completed');
    expect(c.maxOf('p1')).toBe(1);
    expect(c.maxOf('p2')).toBe(1);
    expect(c.max()).toBe(2);
  });

  it('keyConcurrency as a function limits only the keys it names', async () => {
    const c = counting();
    const engine = createEngine({
      registry: createNodeRegistry([c.node]),
      keyConcurrency: (key) => (key === 'p1' ? 2 : undefined),
    });
    await engine.run(many(['p1', 'p1', 'p1', 'p1', 'p2', 'p2', 'p2']));
    expect(c.maxOf('p1')).toBe(2);
    expect(c.maxOf('p2')).toBe(3);
  });

  it('key limits are shared by the runs of an engine', async () => {
    const c = counting();
    const engine = createEngine({ registry: createNodeRegistry([c.node]), keyConcurrency: 1 });
    await Promise.all([engine.run(many(['p1', 'p1'], 'x')), engine.run(many(['p1', 'p1'], 'y'))]);
    expect(c.maxOf('p1')).toBe(1);
  });

  it('a node waiting for its key does not hold a run slot', async () => {
    const c = counting();
    const engine = createEngine({
      registry: createNodeRegistry([c.node]),
      concurrency: 2,
      keyConcurrency: 1,
    });
    // Three p1 nodes queue on their key; the free nodes must still get the second run slot.
    await engine.run(many(['p1', 'p1', 'p1', undefined, undefined]));
    expect(c.maxOf('p1')).toBe(1);
    expect(c.max()).toBe(2);
    // The free nodes did not wait behind the queued p1 nodes.
    expect(c.starts.slice(0, 2).sort()).toEqual(['n0', 'n3']);
    expect(c.starts.indexOf('n4')).toBeLessThan(c.starts.indexOf('n1'));
  });
});

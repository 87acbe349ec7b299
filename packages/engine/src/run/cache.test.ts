import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { cacheKeyOf } from '../cache/cache-key.ts';
import { createMemoryOutputCache, type OutputCache } from '../cache/output-cache.ts';
import type { BillingHooks } from '../cost/billing-hooks.ts';
import type { RunEvent, RunEventType } from '../events/run-events.ts';
import { defineNode } from '../node/define-node.ts';
import { createNodeRegistry } from '../node/node-registry.ts';
import { createEngine } from './create-engine.ts';

function setup(options: { cache?: OutputCache; version?: number } = {}) {
  const ran: string[] = [];
  const cache = options.cache ?? createMemoryOutputCache();
  const shared = {
    input: z.object({ in: z.string().optional() }),
    output: z.object({ out: z.string() }),
    config: z.object({ cost: z.number().int().default(0), style: z.string().default('plain') }),
    estimateCost: ({ config }: { config: { cost: number } }) => config.cost,
  };
  const step = defineNode({
    type: 'step',
    version: options.version ?? 1,
    ...shared,
    run: ({ nodeId, input, config }) => {
      ran.push(nodeId);
      return { out: `${config.style}(${input.in ?? ''})` };
    },
  });
  const live = defineNode({
    type: 'live',
    version: 1,
    ...shared,
    cacheable: false,
    run: ({ nodeId, input, config }) => {
      ran.push(nodeId);
      return { out: `live-${config.style}(${input.in ?? ''})` };
    },
  });
  const billing = {
    reserve: vi.fn<BillingHooks['reserve']>(async () => ({ reservationId: 'hold' })),
    capture: vi.fn<BillingHooks['capture']>(async () => {}),
    release: vi.fn<BillingHooks['release']>(async () => {}),
  } satisfies BillingHooks;
  const engine = createEngine({ registry: createNodeRegistry([step, live]), cache, billing });
  const events: RunEvent[] = [];
  const onEvent = (e: RunEvent) => events.push(e);
  const of = <K extends RunEventType>(type: K) =>
    events.filter((e): e is Extract<RunEvent, { type: K }> => e.type === type);
  const reset = () => {
    ran.length = 0;
    events.length = 0;
    billing.reserve.mockClear();
    billing.capture.mockClear();
    billing.release.mockClear();
  };
  return { engine, cache, billing, ran, events, onEvent, of, reset };
}

/** a (1) → b (2) → c (3); d (4) on its own. */
function makeGraph(configs: Record<string, Record<string, unknown>> = {}, extra: { live?: boolean } = {}) {
  const costs: Record<string, number> = { a: 1, b: 2, c: 3, d: 4 };
  const nodes = Object.entries(costs).map(([id, cost]) => ({
    id,
    type: 'step',
    config: { cost, ...configs[id] },
  }));
  const edge = (source: string, target: string) => ({
    id: `${source}-${target}`,
    source,
    sourceHandle: 'out',
    target,
    targetHandle: 'in',
  });
  const edges = [edge('a', 'b'), edge('b', 'c')];
  if (extra.live) {
    nodes.push({ id: 'l', type: 'live', config: { cost: 5 } });
    edges.push(edge('a', 'l'));
  }
  return { version: 1, nodes, edges };
}

describe('output cache', () => {
  it('a second run of the same graph reuses every output: nothing runs or is captured', async () => {
    const t = setup();
    const first = await t.engine.run(makeGraph());
    expect(t.ran.sort()).toEqual(['a', 'b', 'c', 'd']);
    t.reset();

    const second = await t.engine.run(makeGraph(), { onEvent: t.onEvent });
    expect(second.status).toBe('completed');
    expect(t.ran).toEqual([]);
    expect(t.of('node.started')).toEqual([]);
    expect(t.of('node.completed')).toEqual([]);
    expect(
      t
        .of('node.cached')
        .map((e) => [e.nodeId, e.source, e.saved])
        .sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
    ).toEqual([
      ['a', 'cache', 1],
      ['b', 'cache', 2],
      ['c', 'cache', 3],
      ['d', 'cache', 4],
    ]);
    expect(t.of('node.cached').find((e) => e.nodeId === 'c')?.output).toEqual({
      out: 'plain(plain(plain()))',
    });
    expect(second.outputs).toEqual(first.outputs);
    expect(t.billing.capture).not.toHaveBeenCalled();
    expect(second.cost).toMatchObject({ captured: 0, saved: 10 });
    // Whatever was held is given back.
    expect(second.cost.released).toBe(second.cost.reserved);
    expect(t.of('run.completed').map((e) => [e.captured, e.saved])).toEqual([[0, 10]]);
  });

  it("changing one node's config re-runs only it and its downstream", async () => {
    const t = setup();
    await t.engine.run(makeGraph());
    t.reset();

    const outcome = await t.engine.run(makeGraph({ b: { style: 'bold' } }), { onEvent: t.onEvent });
    expect(outcome.status).toBe('completed');
    expect(t.ran.sort()).toEqual(['b', 'c']);
    expect(
      t
        .of('node.cached')
        .map((e) => e.nodeId)
        .sort(),
    ).toEqual(['a', 'd']);
    expect(outcome.outputs).toMatchObject({
      b: { out: 'bold(plain())' },
      c: { out: 'plain(bold(plain()))' },
    });
    expect(t.billing.capture.mock.calls.map(([a]) => [a.nodeId, a.amount]).sort()).toEqual([
      ['b', 2],
      ['c', 3],
    ]);
    expect(outcome.cost.saved).toBe(5);
  });

  it('cacheable: false nodes always run', async () => {
    const t = setup();
    await t.engine.run(makeGraph({}, { live: true }));
    expect(t.ran).toContain('l');
    t.reset();

    const outcome = await t.engine.run(makeGraph({}, { live: true }), { onEvent: t.onEvent });
    expect(outcome.status).toBe('completed');
    expect(t.ran).toEqual(['l']);
    expect(t.of('node.cached').map((e) => e.nodeId)).not.toContain('l');
    expect(t.billing.capture.mock.calls.map(([a]) => [a.nodeId, a.amount])).toEqual([['l', 5]]);
  });

  it('a new definition version misses the cache', async () => {
    const cache = createMemoryOutputCache();
    const v1 = setup({ cache });
    await v1.engine.run(makeGraph());
    const v2 = setup({ cache, version: 2 });
    await v2.engine.run(makeGraph());
    expect(v2.ran.sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('a cached value that does not match the output schema is ignored and the node runs', async () => {
    const cache: OutputCache = { get: async () => ({ out: 42 }), set: async () => {} };
    const t = setup({ cache });
    const outcome = await t.engine.run(makeGraph(), { onEvent: t.onEvent });
    expect(outcome.status).toBe('completed');
    expect(t.ran.sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(t.of('node.cached')).toEqual([]);
  });

  it('stores outputs under the cache key of the node type, version, config and input', async () => {
    const cache = createMemoryOutputCache();
    const set = vi.spyOn(cache, 'set');
    const t = setup({ cache });
    await t.engine.run({ version: 1, nodes: [{ id: 'a', type: 'step', config: { cost: 1 } }], edges: [] });
    const key = await cacheKeyOf({
      type: 'step',
      version: 1,
      config: { cost: 1, style: 'plain' },
      input: {},
    });
    expect(set).toHaveBeenCalledWith({ key, value: { out: 'plain()' } });
    expect(await cache.get({ key })).toEqual({ out: 'plain()' });
  });
});

describe('cacheKeyOf', () => {
  const base = {
    type: 'image',
    version: 1,
    config: { size: 'small', steps: 20, style: { tone: 'warm', grain: 2 } },
    input: { prompt: 'a cat', seed: 7 },
  };

  it('is a SHA-256 hex digest', async () => {
    expect(await cacheKeyOf(base)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is stable under key order, at every depth', async () => {
    const reordered = {
      input: { seed: 7, prompt: 'a cat' },
      config: { style: { grain: 2, tone: 'warm' }, steps: 20, size: 'small' },
      version: 1,
      type: 'image',
    };
    expect(await cacheKeyOf(reordered)).toBe(await cacheKeyOf(base));
  });

  it('changes with the type, version, config or input', async () => {
    const key = await cacheKeyOf(base);
    const variants = [
      { ...base, type: 'video' },
      { ...base, version: 2 },
      { ...base, config: { ...base.config, steps: 21 } },
      { ...base, input: { ...base.input, prompt: 'a dog' } },
      { ...base, input: { ...base.input, extra: true } },
    ];
    const keys = await Promise.all(variants.map((v) => cacheKeyOf(v)));
    for (const other of keys) expect(other).not.toBe(key);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('keeps config and input apart', async () => {
    const one = await cacheKeyOf({ type: 't', version: 1, config: { x: 1 }, input: {} });
    const two = await cacheKeyOf({ type: 't', version: 1, config: {}, input: { x: 1 } });
    expect(one).not.toBe(two);
  });
});

describe('createMemoryOutputCache', () => {
  it('returns copies and evicts the least recently used entry beyond maxEntries', async () => {
    const cache = createMemoryOutputCache({ maxEntries: 2 });
    const value = { list: [1] };
    await cache.set({ key: 'a', value });
    value.list.push(2);
    expect(await cache.get({ key: 'a' })).toEqual({ list: [1] });
    await cache.set({ key: 'b', value: 'B' });
    await cache.get({ key: 'a' }); // a is now the most recent
    await cache.set({ key: 'c', value: 'C' });
    expect(await cache.get({ key: 'b' })).toBeUndefined();
    expect(await cache.get({ key: 'a' })).toEqual({ list: [1] });
    expect(await cache.get({ key: 'c' })).toBe('C');
  });
});

import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createMemoryCheckpointStore } from '../checkpoint/memory-checkpoint-store.ts';
import type { BillingHooks } from '../cost/billing-hooks.ts';
import { GraphValidationError } from '../errors/graph-validation-error.ts';
import { NonRetryableError } from '../errors/non-retryable-error.ts';
import type { RunEvent, RunEventType } from '../events/run-events.ts';
import { defineNode } from '../node/define-node.ts';
import { createNodeRegistry } from '../node/node-registry.ts';
import { createEngine } from './create-engine.ts';

function setup(options: { fail?: string[] } = {}) {
  const ran: string[] = [];
  const fail = new Set(options.fail);
  const step = defineNode({
    type: 'step',
    version: 1,
    input: z.object({ a: z.string().optional(), b: z.string().optional() }),
    output: z.object({ out: z.string() }),
    config: z.object({ cost: z.number().int().default(0), variant: z.string().default('v1') }),
    estimateCost: ({ config }) => config.cost,
    run: ({ nodeId, input, config }) => {
      ran.push(nodeId);
      if (fail.has(nodeId)) throw new NonRetryableError(`${nodeId} failed`);
      const inputs = [input.a, input.b].filter((x) => x !== undefined).join(',');
      return { out: `${nodeId}:${config.variant}(${inputs})` };
    },
  });
  const billing = {
    reserve: vi.fn<BillingHooks['reserve']>(async ({ runId }) => ({ reservationId: `hold-${runId}` })),
    capture: vi.fn<BillingHooks['capture']>(async () => {}),
    release: vi.fn<BillingHooks['release']>(async () => {}),
  } satisfies BillingHooks;
  const store = createMemoryCheckpointStore();
  const engine = createEngine({
    registry: createNodeRegistry([step]),
    store,
    billing,
    retry: { maxAttempts: 1 },
  });
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
  return { engine, store, billing, ran, events, onEvent, of, reset, fail };
}

/** script (1) → image (2) → video (5) → publish (1); music (3) → video. */
function makeGraph(configs: Record<string, Record<string, unknown>> = {}) {
  const costs: Record<string, number> = { script: 1, image: 2, music: 3, video: 5, publish: 1 };
  const edge = (source: string, target: string, port: 'a' | 'b') => ({
    id: `${source}-${target}`,
    source,
    sourceHandle: 'out',
    target,
    targetHandle: port,
  });
  return {
    version: 1,
    nodes: Object.entries(costs).map(([id, cost]) => ({
      id,
      type: 'step',
      config: { cost, ...configs[id] },
    })),
    edges: [
      edge('script', 'image', 'a'),
      edge('image', 'video', 'a'),
      edge('music', 'video', 'b'),
      edge('video', 'publish', 'a'),
    ],
  };
}

describe('rerun', () => {
  it('reuses upstream outputs and re-runs the chosen node and its descendants', async () => {
    const t = setup();
    const parent = await t.engine.run(makeGraph(), { runId: 'parent' });
    expect(parent.status).toBe('completed');
    t.reset();

    const handle = t.engine.rerun({ runId: 'parent', from: ['video'] }, { onEvent: t.onEvent });
    const outcome = await handle.result;

    expect(handle.runId).not.toBe('parent');
    expect(outcome.status).toBe('completed');
    expect(t.ran.sort()).toEqual(['publish', 'video']);
    expect(
      t
        .of('node.cached')
        .map((e) => [e.nodeId, e.source, e.saved, e.output])
        .sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
    ).toEqual([
      ['image', 'rerun', 2, { out: 'image:v1(script:v1())' }],
      ['music', 'rerun', 3, { out: 'music:v1()' }],
      ['script', 'rerun', 1, { out: 'script:v1()' }],
    ]);
    expect(outcome.outputs).toEqual({
      ...parent.outputs,
      video: { out: 'video:v1(image:v1(script:v1()),music:v1())' },
      publish: { out: 'publish:v1(video:v1(image:v1(script:v1()),music:v1()))' },
    });
    expect(outcome.cost).toMatchObject({ estimated: 6, reserved: 6, captured: 6, saved: 6 });
    expect(t.of('run.completed').map((e) => e.saved)).toEqual([6]);

    const stored = await t.store.loadRun({ runId: handle.runId });
    expect(stored?.run.parentRunId).toBe('parent');
  });

  it('reserves only for the nodes that run, and captures only them', async () => {
    const t = setup();
    await t.engine.run(makeGraph(), { runId: 'parent' });
    t.reset();

    const handle = t.engine.rerun({ runId: 'parent', from: ['video'] });
    await handle.result;
    expect(t.billing.reserve).toHaveBeenCalledTimes(1);
    expect(t.billing.reserve).toHaveBeenCalledWith({
      runId: handle.runId,
      amount: 6,
      breakdown: { video: 5, publish: 1 },
      idempotencyKey: handle.runId,
    });
    expect(t.billing.capture.mock.calls.map(([a]) => [a.nodeId, a.amount, a.idempotencyKey]).sort()).toEqual([
      ['publish', 1, `${handle.runId}:publish`],
      ['video', 5, `${handle.runId}:video`],
    ]);
    expect(t.billing.release.mock.calls.map(([a]) => a.amount)).toEqual([0]);
  });

  it('a changed config upstream forces that node and its descendants to run', async () => {
    const t = setup();
    await t.engine.run(makeGraph(), { runId: 'parent' });
    t.reset();

    const changed = makeGraph({ music: { variant: 'v2' } });
    const outcome = await t.engine.rerun(
      { runId: 'parent', from: ['publish'], graph: changed },
      { onEvent: t.onEvent },
    ).result;

    expect(outcome.status).toBe('completed');
    expect(t.ran.sort()).toEqual(['music', 'publish', 'video']);
    expect(
      t
        .of('node.cached')
        .map((e) => e.nodeId)
        .sort(),
    ).toEqual(['image', 'script']);
    expect(outcome.outputs).toMatchObject({
      music: { out: 'music:v2()' },
      video: { out: 'video:v1(image:v1(script:v1()),music:v2())' },
    });
    expect(t.billing.reserve.mock.calls[0]?.[0].amount).toBe(9);
  });

  it('re-runs nodes that did not complete in the earlier run', async () => {
    const t = setup({ fail: ['image'] });
    const parent = await t.engine.run(makeGraph(), { runId: 'parent' });
    expect(parent.status).toBe('failed');
    t.reset();
    t.fail.clear();

    const outcome = await t.engine.rerun({ runId: 'parent', from: ['image'] }).result;
    expect(outcome.status).toBe('completed');
    expect(t.ran.sort()).toEqual(['image', 'publish', 'video']);
  });

  it('from nothing reuses everything: no node runs and nothing is reserved', async () => {
    const t = setup();
    const parent = await t.engine.run(makeGraph(), { runId: 'parent' });
    t.reset();
    const outcome = await t.engine.rerun({ runId: 'parent', from: [] }).result;
    expect(outcome.status).toBe('completed');
    expect(outcome.outputs).toEqual(parent.outputs);
    expect(t.ran).toEqual([]);
    expect(t.billing.reserve).not.toHaveBeenCalled();
    expect(outcome.cost.saved).toBe(12);
  });

  it('an unknown `from` node gives a failed outcome with GRAPH_INVALID', async () => {
    const t = setup();
    await t.engine.run(makeGraph(), { runId: 'parent' });
    t.reset();
    const outcome = await t.engine.rerun({ runId: 'parent', from: ['video', 'nope'] }).result;
    expect(outcome.status).toBe('failed');
    if (outcome.status === 'failed') {
      expect(outcome.error.code).toBe('GRAPH_INVALID');
      expect(outcome.error.message).toContain('nope');
    }
    expect(t.ran).toEqual([]);
    expect(t.billing.reserve).not.toHaveBeenCalled();
  });

  it('an unknown earlier run gives a failed outcome with RUN_NOT_FOUND', async () => {
    const t = setup();
    const outcome = await t.engine.rerun({ runId: 'ghost', from: ['video'] }).result;
    expect(outcome.status === 'failed' && outcome.error.code).toBe('RUN_NOT_FOUND');
  });

  it('an invalid new graph throws GraphValidationError synchronously', async () => {
    const t = setup();
    await t.engine.run(makeGraph(), { runId: 'parent' });
    expect(() =>
      t.engine.rerun({
        runId: 'parent',
        from: ['video'],
        graph: { version: 1, nodes: [{ id: 'x', type: 'nope' }] },
      }),
    ).toThrow(GraphValidationError);
  });
});

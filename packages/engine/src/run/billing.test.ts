import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import type { BillingHooks } from '../cost/billing-hooks.ts';
import { estimateCost } from '../cost/estimate-cost.ts';
import { GraphValidationError } from '../errors/graph-validation-error.ts';
import { InsufficientCreditsError } from '../errors/insufficient-credits-error.ts';
import { NonRetryableError } from '../errors/non-retryable-error.ts';
import type { RunEvent, RunEventType } from '../events/run-events.ts';
import { defineNode } from '../node/define-node.ts';
import { createNodeRegistry } from '../node/node-registry.ts';
import { createEngine } from './create-engine.ts';

/** A `paid` node costs `config.cost` credits; a `video` node costs 2 per second (default 5 s). */
function setup(options: { fail?: readonly string[]; reserve?: BillingHooks['reserve'] } = {}) {
  const log: string[] = [];
  const paid = defineNode({
    type: 'paid',
    version: 1,
    input: z.object({ in: z.string().optional() }),
    output: z.object({ out: z.string() }),
    config: z.object({ cost: z.number().int() }),
    estimateCost: ({ config }) => config.cost,
    run: ({ nodeId }) => {
      log.push(`run:${nodeId}`);
      if (options.fail?.includes(nodeId)) throw new NonRetryableError(`${nodeId} failed`);
      return { out: nodeId };
    },
  });
  const video = defineNode({
    type: 'video',
    version: 1,
    input: z.object({ in: z.string().optional() }),
    output: z.object({ out: z.string() }),
    config: z.object({ seconds: z.number().int().default(5) }),
    estimateCost: ({ config }) => config.seconds * 2,
    run: ({ nodeId }) => {
      log.push(`run:${nodeId}`);
      return { out: nodeId };
    },
  });
  const registry = createNodeRegistry([paid, video]);
  const billing = {
    reserve: vi.fn<BillingHooks['reserve']>(
      options.reserve ??
        (async (args) => {
          log.push(`reserve:${args.amount}`);
          return { reservationId: 'hold-1' };
        }),
    ),
    capture: vi.fn<BillingHooks['capture']>(async (args) => {
      log.push(`capture:${args.nodeId}:${args.amount}`);
    }),
    release: vi.fn<BillingHooks['release']>(async (args) => {
      log.push(`release:${args.amount}`);
    }),
  } satisfies BillingHooks;
  const engine = createEngine({ registry, billing, retry: { maxAttempts: 1 } });
  const events: RunEvent[] = [];
  const onEvent = (e: RunEvent) => events.push(e);
  const of = <K extends RunEventType>(type: K) =>
    events.filter((e): e is Extract<RunEvent, { type: K }> => e.type === type);
  return { engine, registry, billing, log, events, onEvent, of };
}

/** script (1) → image (2) → clip (video, 10 by default); free (0) on its own. */
const graph = {
  version: 1,
  nodes: [
    { id: 'script', type: 'paid', config: { cost: 1 } },
    { id: 'image', type: 'paid', config: { cost: 2 } },
    { id: 'clip', type: 'video' },
    { id: 'free', type: 'paid', config: { cost: 0 } },
  ],
  edges: [
    { id: 'e1', source: 'script', sourceHandle: 'out', target: 'image', targetHandle: 'in' },
    { id: 'e2', source: 'image', sourceHandle: 'out', target: 'clip', targetHandle: 'in' },
  ],
};

describe('cost estimates', () => {
  it('gives the total and a per-node breakdown, using config defaults', () => {
    const { engine, registry } = setup();
    const expected = {
      total: 13,
      nodes: [
        { nodeId: 'script', nodeType: 'paid', cost: 1 },
        { nodeId: 'image', nodeType: 'paid', cost: 2 },
        { nodeId: 'clip', nodeType: 'video', cost: 10 },
        { nodeId: 'free', nodeType: 'paid', cost: 0 },
      ],
    };
    expect(engine.estimateCost(graph)).toEqual(expected);
    expect(estimateCost(graph, registry)).toEqual(expected);
  });

  it('follows the config', () => {
    const { engine } = setup();
    const longer = {
      ...graph,
      nodes: graph.nodes.map((n) => (n.id === 'clip' ? { ...n, config: { seconds: 30 } } : n)),
    };
    expect(engine.estimateCost(longer).total).toBe(63);
  });

  it('throws GraphValidationError for an invalid graph', () => {
    const { registry } = setup();
    expect(() =>
      estimateCost({ version: 1, nodes: [{ id: 'a', type: 'paid' }], edges: [] }, registry),
    ).toThrow(GraphValidationError);
  });
});

describe('billing during a run', () => {
  it('reserves the estimate once, before any node starts', async () => {
    const t = setup();
    const handle = t.engine.start(graph, { onEvent: t.onEvent });
    const outcome = await handle.result;

    expect(outcome.status).toBe('completed');
    expect(t.billing.reserve).toHaveBeenCalledTimes(1);
    expect(t.billing.reserve).toHaveBeenCalledWith({
      runId: handle.runId,
      amount: 13,
      breakdown: { script: 1, image: 2, clip: 10 },
      idempotencyKey: handle.runId,
    });
    expect(t.log[0]).toBe('reserve:13');
    expect(t.log.filter((l) => l.startsWith('run:'))).toHaveLength(4);
    const firstStart = t.events.findIndex((e) => e.type === 'node.started');
    const reserved = t.events.findIndex((e) => e.type === 'cost.reserved');
    expect(reserved).toBeGreaterThan(-1);
    expect(reserved).toBeLessThan(firstStart);
  });

  it('captures each succeeded node once, with a per-node idempotency key; free nodes are not captured', async () => {
    const t = setup();
    const handle = t.engine.start(graph, { onEvent: t.onEvent });
    const outcome = await handle.result;
    const runId = handle.runId;

    expect(t.billing.capture).toHaveBeenCalledTimes(3);
    const calls = t.billing.capture.mock.calls.map(([args]) => args);
    expect(calls).toEqual(
      expect.arrayContaining([
        { runId, reservationId: 'hold-1', nodeId: 'script', amount: 1, idempotencyKey: `${runId}:script` },
        { runId, reservationId: 'hold-1', nodeId: 'image', amount: 2, idempotencyKey: `${runId}:image` },
        { runId, reservationId: 'hold-1', nodeId: 'clip', amount: 10, idempotencyKey: `${runId}:clip` },
      ]),
    );
    expect(calls.some((c) => c.nodeId === 'free')).toBe(false);
    // A node is captured before its dependents start.
    expect(t.log.indexOf('capture:script:1')).toBeLessThan(t.log.indexOf('run:image'));
    expect(t.log.indexOf('capture:image:2')).toBeLessThan(t.log.indexOf('run:clip'));

    expect(t.billing.release).toHaveBeenCalledTimes(1);
    expect(t.billing.release).toHaveBeenCalledWith(
      expect.objectContaining({ runId, reservationId: 'hold-1', amount: 0 }),
    );
    expect(t.log.at(-1)).toBe('release:0');
    expect(outcome.cost).toEqual({ estimated: 13, reserved: 13, captured: 13, released: 0, saved: 0 });
  });

  it('emits cost.reserved, cost.captured and cost.released with the amounts', async () => {
    const t = setup();
    const outcome = await t.engine.run(graph, { onEvent: t.onEvent });
    expect(
      t
        .of('cost.reserved')
        .map(({ amount, reservationId, breakdown }) => ({ amount, reservationId, breakdown })),
    ).toEqual([{ amount: 13, reservationId: 'hold-1', breakdown: { script: 1, image: 2, clip: 10 } }]);
    expect(t.of('cost.captured').map((e) => [e.nodeId, e.amount])).toEqual([
      ['script', 1],
      ['image', 2],
      ['clip', 10],
    ]);
    expect(t.of('cost.released').map((e) => e.amount)).toEqual([0]);
    expect(t.of('run.completed').map((e) => e.captured)).toEqual([13]);
    expect(t.of('run.started').map((e) => e.estimatedCost)).toEqual([13]);
    expect(t.of('node.completed').find((e) => e.nodeId === 'clip')?.cost).toBe(10);
    expect(outcome.status).toBe('completed');
  });

  it('does not capture failed or skipped nodes, and releases reserved minus captured, once', async () => {
    const t = setup({ fail: ['image'] });
    const handle = t.engine.start(graph, { onEvent: t.onEvent });
    const outcome = await handle.result;

    expect(outcome.status).toBe('failed');
    expect(t.billing.capture.mock.calls.map(([args]) => args.nodeId)).toEqual(['script']);
    expect(t.billing.release).toHaveBeenCalledTimes(1);
    expect(t.billing.release).toHaveBeenCalledWith(
      expect.objectContaining({ runId: handle.runId, reservationId: 'hold-1', amount: 12 }),
    );
    expect(t.of('cost.released').map((e) => e.amount)).toEqual([12]);
    expect(outcome.cost).toEqual({ estimated: 13, reserved: 13, captured: 1, released: 12, saved: 0 });
  });

  it('a reserve refused with InsufficientCreditsError fails the run before any node runs', async () => {
    const t = setup({
      reserve: async () => {
        throw new InsufficientCreditsError({ required: 13, available: 4 });
      },
    });
    const outcome = await t.engine.run(graph, { onEvent: t.onEvent });

    expect(outcome.status).toBe('failed');
    if (outcome.status !== 'failed') return;
    expect(outcome.error).toBeInstanceOf(InsufficientCreditsError);
    const error = outcome.error as InsufficientCreditsError;
    expect(error.code).toBe('INSUFFICIENT_CREDITS');
    expect(error.required).toBe(13);
    expect(error.available).toBe(4);
    expect(outcome.nodeId).toBeUndefined();
    expect(outcome.outputs).toEqual({});
    expect(outcome.cost).toMatchObject({ reserved: 0, captured: 0, released: 0 });

    expect(t.billing.reserve).toHaveBeenCalledTimes(1);
    expect(t.log.filter((l) => l.startsWith('run:'))).toEqual([]);
    expect(t.of('node.started')).toEqual([]);
    expect(t.billing.capture).not.toHaveBeenCalled();
    expect(t.billing.release).not.toHaveBeenCalled();
    const failed = t.of('run.failed');
    expect(failed.map((e) => [e.error.code, e.error.details])).toEqual([
      ['INSUFFICIENT_CREDITS', { required: 13, available: 4 }],
    ]);
  });

  it('a free graph reserves, captures and releases nothing', async () => {
    const t = setup();
    const outcome = await t.engine.run({
      version: 1,
      nodes: [{ id: 'free', type: 'paid', config: { cost: 0 } }],
      edges: [],
    });
    expect(outcome.status).toBe('completed');
    expect(t.billing.reserve).not.toHaveBeenCalled();
    expect(t.billing.capture).not.toHaveBeenCalled();
    expect(t.billing.release).not.toHaveBeenCalled();
    expect(outcome.cost).toEqual({ estimated: 0, reserved: 0, captured: 0, released: 0, saved: 0 });
  });

  it('without billing hooks nothing is charged, but the estimate is reported', async () => {
    const { registry } = setup();
    const engine = createEngine({ registry });
    const outcome = await engine.run(graph);
    expect(outcome.status).toBe('completed');
    expect(outcome.cost).toEqual({ estimated: 13, reserved: 0, captured: 0, released: 0, saved: 0 });
  });

  it('a failing release leaves the run as it ended, with the release pending; resume repeats it', async () => {
    const t = setup();
    t.billing.release.mockRejectedValueOnce(new Error('ledger unavailable'));
    const handle = t.engine.start(graph, { onEvent: t.onEvent });
    const outcome = await handle.result;
    expect(outcome.status).toBe('completed');
    expect(outcome.cost.released).toBe(0);
    expect(t.billing.release).toHaveBeenCalledTimes(1);
    expect(t.of('cost.released')).toEqual([]);
    expect(t.of('run.completed')).toHaveLength(1);
    const stored = await t.engine.store.loadRun({ runId: handle.runId });
    expect(stored?.run.status).toBe('completed');
    expect(stored?.run.releasePending).toBe(true);

    const resumed = await t.engine.resume(handle.runId).result;
    expect(resumed.status).toBe('completed');
    expect(t.billing.release).toHaveBeenCalledTimes(2);
    const [first, second] = t.billing.release.mock.calls.map((call) => call[0]);
    expect(second).toEqual(first);
    expect(second?.idempotencyKey).toBe(`${handle.runId}:release`);
    expect((await t.engine.store.loadRun({ runId: handle.runId }))?.run.releasePending).toBe(false);
  });

  it('a failing capture fails the run and the rest of the hold is still released', async () => {
    const t = setup();
    t.billing.capture.mockImplementation(async (args) => {
      if (args.nodeId === 'image') throw new Error('ledger unavailable');
    });
    const outcome = await t.engine.run(graph, { onEvent: t.onEvent });
    expect(outcome.status).toBe('failed');
    if (outcome.status !== 'failed') return;
    expect(outcome.nodeId).toBe('image');
    expect(outcome.error.message).toBe('ledger unavailable');
    expect(t.log.includes('run:clip')).toBe(false);
    expect(t.billing.release).toHaveBeenCalledTimes(1);
    expect(t.billing.release.mock.calls[0]?.[0].amount).toBe(12);
  });
});

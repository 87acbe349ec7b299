import { describe, expect, expectTypeOf, it, vi } from 'vitest';
import { z } from 'zod';
import type { BillingHooks } from '../cost/billing-hooks.ts';
import type { RunEvent, RunEventOf } from '../events/run-events.ts';
import { defineNode } from '../node/define-node.ts';
import { createNodeRegistry } from '../node/node-registry.ts';
import { createEngine } from './create-engine.ts';
import type { EngineOptions } from './engine-options.ts';

function setup(options: Omit<EngineOptions, 'registry'> = {}) {
  const step = defineNode({
    type: 'step',
    version: 1,
    input: z.object({ in: z.string().optional() }),
    output: z.object({ out: z.string() }),
    config: z.object({
      cost: z.number().int().default(0),
      progress: z.array(z.union([z.number(), z.nan()])).default([]),
    }),
    estimateCost: ({ config }) => config.cost,
    run: ({ nodeId, config, progress }) => {
      for (const fraction of config.progress) progress(fraction, `at ${fraction}`);
      return { out: nodeId };
    },
  });
  return createEngine({ registry: createNodeRegistry([step]), ...options });
}

/** a → b → c, plus d on its own. */
const graph = {
  version: 1,
  nodes: [
    { id: 'a', type: 'step', config: { cost: 1, progress: [0.5] } },
    { id: 'b', type: 'step', config: { cost: 2 } },
    { id: 'c', type: 'step' },
    { id: 'd', type: 'step', config: { cost: 3 } },
  ],
  edges: [
    { id: 'ab', source: 'a', sourceHandle: 'out', target: 'b', targetHandle: 'in' },
    { id: 'bc', source: 'b', sourceHandle: 'out', target: 'c', targetHandle: 'in' },
  ],
};

const billing = (): BillingHooks => ({
  reserve: async () => ({ reservationId: 'hold' }),
  capture: async () => {},
  release: async () => {},
});

describe('run events', () => {
  it('every event carries the runId, a gap-free increasing seq from 1, and a timestamp', async () => {
    const engine = setup({ billing: billing() });
    const events: RunEvent[] = [];
    const handle = engine.start(graph, { onEvent: (e) => events.push(e) });
    const outcome = await handle.result;

    expect(outcome.status).toBe('completed');
    expect(events.length).toBeGreaterThan(10);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    for (const event of events) {
      expect(event.runId).toBe(handle.runId);
      expect(typeof event.at).toBe('number');
      expect(Number.isFinite(event.at)).toBe(true);
      expect(event.at).toBeGreaterThan(0);
    }
    expect(events[0]?.type).toBe('run.started');
    expect(events.at(-1)?.type).toBe('run.completed');
  });

  it('the `event` channel, the onEvent option and hooks.onEvent all see every event, in order', async () => {
    const hook = vi.fn<(event: RunEvent) => void>();
    const engine = setup({ billing: billing(), hooks: { onEvent: hook } });
    const fromOption: RunEvent[] = [];
    const fromChannel: RunEvent[] = [];
    const handle = engine.start(graph, { onEvent: (e) => fromOption.push(e) });
    handle.on('event', (e) => fromChannel.push(e));
    await handle.result;

    expect(fromChannel.length).toBeGreaterThan(0);
    expect(fromChannel).toEqual(fromOption);
    expect(hook.mock.calls.map(([e]) => e)).toEqual(fromOption);
    // Listeners attached right after start() see run.started.
    expect(fromChannel[0]?.type).toBe('run.started');
    expect(fromChannel[0]?.seq).toBe(1);
  });

  it('hooks.onEvent sees the events of every run; each run numbers its own events', async () => {
    const seen: RunEvent[] = [];
    const engine = setup({ hooks: { onEvent: (e) => seen.push(e) } });
    const one = engine.start(graph);
    const two = engine.start(graph);
    await Promise.all([one.result, two.result]);
    const ofRun = (runId: string) => seen.filter((e) => e.runId === runId);
    expect(ofRun(one.runId).length).toBeGreaterThan(0);
    expect(ofRun(one.runId).length + ofRun(two.runId).length).toBe(seen.length);
    for (const runId of [one.runId, two.runId]) {
      const seqs = ofRun(runId).map((e) => e.seq);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    }
  });

  it('typed channels receive only their type, with a typed payload', async () => {
    const engine = setup();
    const completed: RunEventOf<'node.completed'>[] = [];
    const all: RunEvent[] = [];
    const handle = engine.start(graph, { onEvent: (e) => all.push(e) });
    handle.on('node.completed', (event) => {
      expectTypeOf(event).toEqualTypeOf<RunEventOf<'node.completed'>>();
      expectTypeOf(event.output).toBeUnknown();
      expectTypeOf(event.attempt).toBeNumber();
      completed.push(event);
    });
    const started = vi.fn();
    handle.on('run.started', started);
    await handle.result;

    expect(completed.map((e) => e.nodeId).sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(completed).toEqual(all.filter((e) => e.type === 'node.completed'));
    for (const e of completed) {
      expect(e.type).toBe('node.completed');
      expect(e.nodeType).toBe('step');
      expect(e.output).toEqual({ out: e.nodeId });
      expect(e.attempt).toBe(1);
      expect(e.durationMs).toBeGreaterThanOrEqual(0);
    }
    expect(started).toHaveBeenCalledTimes(1);
    expect(started.mock.calls[0]?.[0]).toMatchObject({
      type: 'run.started',
      resumed: false,
      nodeCount: 4,
      estimatedCost: 6,
    });
  });

  it('once() fires once and off() stops a listener', async () => {
    const engine = setup();
    const handle = engine.start(graph);
    const once = vi.fn();
    const removed = vi.fn();
    const kept = vi.fn();
    handle.once('node.started', once).on('node.started', removed).on('node.started', kept);
    handle.off('node.started', removed);
    await handle.result;
    expect(once).toHaveBeenCalledTimes(1);
    expect(removed).not.toHaveBeenCalled();
    expect(kept).toHaveBeenCalledTimes(4);
  });

  it('orders a chain: each node starts after its upstream completed', async () => {
    const engine = setup();
    const events: RunEvent[] = [];
    await engine.run(
      { ...graph, nodes: graph.nodes.filter((n) => n.id !== 'd') },
      { onEvent: (e) => events.push(e) },
    );
    expect(events.map((e) => ('nodeId' in e ? `${e.type}:${e.nodeId}` : e.type))).toEqual([
      'run.started',
      'node.started:a',
      'node.progress:a',
      'node.completed:a',
      'node.started:b',
      'node.completed:b',
      'node.started:c',
      'node.completed:c',
      'run.completed',
    ]);
  });

  it('node.progress fractions are clamped to [0, 1]; the message is passed on', async () => {
    const engine = setup();
    const events: RunEventOf<'node.progress'>[] = [];
    const handle = engine.start({
      version: 1,
      nodes: [{ id: 'p', type: 'step', config: { progress: [-0.5, 0, 0.25, 1, 7, Number.NaN] } }],
      edges: [],
    });
    handle.on('node.progress', (e) => events.push(e));
    await handle.result;
    expect(events.map((e) => e.fraction)).toEqual([0, 0, 0.25, 1, 1, 0]);
    expect(events.map((e) => e.nodeId)).toEqual(['p', 'p', 'p', 'p', 'p', 'p']);
    expect(events[2]?.message).toBe('at 0.25');
  });

  it('a progress report without a message has no message field', async () => {
    const bare = defineNode({
      type: 'bare',
      version: 1,
      input: z.object({}),
      output: z.object({}),
      config: z.object({}),
      run: ({ progress }) => {
        progress(0.5);
        return {};
      },
    });
    const engine = createEngine({ registry: createNodeRegistry([bare]) });
    const events: RunEvent[] = [];
    await engine.run(
      { version: 1, nodes: [{ id: 'x', type: 'bare' }], edges: [] },
      { onEvent: (e) => events.push(e) },
    );
    const progress = events.find((e) => e.type === 'node.progress');
    expect(progress).toBeDefined();
    expect(progress && 'message' in progress).toBe(false);
  });

  it('a progress report that changes nothing (same fraction, no new message) emits no event', async () => {
    const chatty = defineNode({
      type: 'chatty',
      version: 1,
      input: z.object({}),
      output: z.object({}),
      config: z.object({}),
      run: ({ progress }) => {
        progress(0.5, 'Asking');
        progress(0.5); // nothing new
        progress(0.5, 'Asking'); // nothing new
        progress(0.5, 'Still asking'); // a new message
        progress(1); // the provider's end
        progress(1); // the node's own end: a repeat
        progress(0.9); // going back is news
        return {};
      },
    });
    const engine = createEngine({ registry: createNodeRegistry([chatty]) });
    const events: RunEvent[] = [];
    await engine.run(
      { version: 1, nodes: [{ id: 'x', type: 'chatty' }], edges: [] },
      { onEvent: (e) => events.push(e) },
    );
    const progress = events.flatMap((e) => (e.type === 'node.progress' ? [[e.fraction, e.message]] : []));
    expect(progress).toEqual([
      [0.5, 'Asking'],
      [0.5, 'Still asking'],
      [1, undefined],
      [0.9, undefined],
    ]);
  });
});

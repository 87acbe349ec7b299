import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import type { BillingHooks } from '../cost/billing-hooks.ts';
import { EngineError } from '../errors/engine-error.ts';
import type { RunEvent, RunEventType } from '../events/run-events.ts';
import { defineNode } from '../node/define-node.ts';
import { createNodeRegistry } from '../node/node-registry.ts';
import { createEngine } from './create-engine.ts';
import type { EngineOptions } from './engine-options.ts';

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const never = () => new Promise<never>(() => {});

/** A test bench: `quick` nodes return at once, `hang` nodes block until the run is cancelled. */
function bench(
  options: { hang?: 'ignore-signal' | 'honour-signal'; engine?: Omit<EngineOptions, 'registry'> } = {},
) {
  const started: string[] = [];
  const signals = new Map<string, AbortSignal>();
  const hanging = deferred();
  const quick = defineNode({
    type: 'quick',
    version: 1,
    input: z.object({ in: z.string().optional() }),
    output: z.object({ out: z.string() }),
    config: z.object({ cost: z.number().default(0) }),
    estimateCost: ({ config }) => config.cost,
    run: ({ nodeId, signal }) => {
      started.push(nodeId);
      signals.set(nodeId, signal);
      return { out: nodeId };
    },
  });
  const hang = defineNode({
    type: 'hang',
    version: 1,
    input: z.object({ in: z.string().optional() }),
    output: z.object({ out: z.string() }),
    config: z.object({ cost: z.number().default(0) }),
    estimateCost: ({ config }) => config.cost,
    run: ({ nodeId, signal }) => {
      started.push(nodeId);
      signals.set(nodeId, signal);
      hanging.resolve();
      if (options.hang === 'honour-signal') {
        return new Promise<never>((_, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason));
        });
      }
      return never();
    },
  });
  const engine = createEngine({
    registry: createNodeRegistry([quick, hang]),
    retry: { maxAttempts: 1 },
    ...options.engine,
  });
  const events: RunEvent[] = [];
  const onEvent = (e: RunEvent) => events.push(e);
  const of = <K extends RunEventType>(type: K) =>
    events.filter((e): e is Extract<RunEvent, { type: K }> => e.type === type);
  return { engine, started, signals, hanging: hanging.promise, events, onEvent, of };
}

/** a (quick) → b (hang) → c (quick) → d (quick); e (quick, independent) → f (quick). */
const chain = (costs: Record<string, number> = {}) => {
  const n = (id: string, type: string) => ({ id, type, config: { cost: costs[id] ?? 0 } });
  const e = (source: string, target: string) => ({
    id: `${source}-${target}`,
    source,
    sourceHandle: 'out',
    target,
    targetHandle: 'in',
  });
  return {
    version: 1,
    nodes: [n('a', 'quick'), n('b', 'hang'), n('c', 'quick'), n('d', 'quick')],
    edges: [e('a', 'b'), e('b', 'c'), e('c', 'd')],
  };
};

describe('cancelling a run with handle.cancel()', () => {
  it('aborts the running node, cancels the run with the reason, and skips pending nodes', async () => {
    const t = bench({ hang: 'ignore-signal' });
    const handle = t.engine.start(chain(), { onEvent: t.onEvent });
    await t.hanging;
    handle.cancel('user pressed stop');
    const outcome = await handle.result;

    expect(outcome).toMatchObject({ status: 'cancelled', reason: 'user pressed stop', runId: handle.runId });
    expect(outcome.outputs).toEqual({ a: { out: 'a' } });

    const signal = t.signals.get('b');
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBeInstanceOf(EngineError);
    expect(signal?.reason).toMatchObject({ code: 'CANCELLED', message: 'user pressed stop' });

    expect(t.of('node.cancelled').map((e) => [e.nodeId, e.nodeType, e.reason])).toEqual([
      ['b', 'hang', 'user pressed stop'],
    ]);
    expect(t.of('node.skipped').map((e) => [e.nodeId, e.reason])).toEqual([
      ['c', 'cancelled'],
      ['d', 'cancelled'],
    ]);
    expect(t.of('run.cancelled').map((e) => e.reason)).toEqual(['user pressed stop']);
    expect(t.of('run.completed')).toEqual([]);
    expect(t.of('run.failed')).toEqual([]);
    expect(t.of('node.failed')).toEqual([]);
    expect(t.events.at(-1)?.type).toBe('run.cancelled');
  });

  it('starts no node after the cancel', async () => {
    const t = bench({ hang: 'ignore-signal' });
    const handle = t.engine.start(chain(), { onEvent: t.onEvent });
    await t.hanging;
    handle.cancel();
    const eventsAtCancel = t.events.length;
    await handle.result;
    // Give any stray scheduling a chance to show up.
    await new Promise((r) => setTimeout(r, 10));
    expect(t.started).toEqual(['a', 'b']);
    expect(t.events.slice(eventsAtCancel).filter((e) => e.type === 'node.started')).toEqual([]);
  });

  it('uses a default reason when none is given', async () => {
    const t = bench();
    const handle = t.engine.start(chain());
    await t.hanging;
    handle.cancel();
    const outcome = await handle.result;
    expect(outcome.status).toBe('cancelled');
    if (outcome.status === 'cancelled') expect(outcome.reason).toBe('cancelled by the caller');
  });

  it('ends promptly even though the running node ignores its signal', { timeout: 2_000 }, async () => {
    const t = bench({ hang: 'ignore-signal' });
    const handle = t.engine.start(chain());
    await t.hanging;
    handle.cancel('stop');
    await expect(handle.result).resolves.toMatchObject({ status: 'cancelled' });
  });

  it('a node rejecting because its signal aborted is cancelled, not failed', async () => {
    const t = bench({ hang: 'honour-signal' });
    const handle = t.engine.start(chain(), { onEvent: t.onEvent });
    await t.hanging;
    handle.cancel('stop');
    const outcome = await handle.result;
    expect(outcome.status).toBe('cancelled');
    expect(t.of('node.failed')).toEqual([]);
    expect(t.of('node.retrying')).toEqual([]);
    expect(t.of('node.cancelled').map((e) => e.nodeId)).toEqual(['b']);
  });

  it('a second cancel keeps the first reason', async () => {
    const t = bench();
    const handle = t.engine.start(chain(), { onEvent: t.onEvent });
    await t.hanging;
    handle.cancel('first');
    handle.cancel('second');
    const outcome = await handle.result;
    expect(outcome.status === 'cancelled' && outcome.reason).toBe('first');
    expect(t.of('run.cancelled')).toHaveLength(1);
  });

  it('cancelling during a retry backoff ends the run without another attempt', {
    timeout: 2_000,
  }, async () => {
    let attempts = 0;
    const failed = deferred();
    const flaky = defineNode({
      type: 'flaky',
      version: 1,
      input: z.object({}),
      output: z.object({}),
      config: z.object({}),
      run: () => {
        attempts++;
        throw new Error('503');
      },
    });
    const engine = createEngine({
      registry: createNodeRegistry([flaky]),
      retry: { maxAttempts: 5, initialDelayMs: 60_000, maxDelayMs: 60_000, jitter: 0 },
    });
    const handle = engine.start({ version: 1, nodes: [{ id: 'f', type: 'flaky' }], edges: [] });
    handle.on('node.retrying', () => failed.resolve());
    await failed.promise;
    handle.cancel('give up');
    const outcome = await handle.result;
    expect(outcome.status).toBe('cancelled');
    expect(attempts).toBe(1);
  });

  it('cancelling after the run ended changes nothing', async () => {
    const t = bench();
    const graph = {
      version: 1,
      nodes: [{ id: 'a', type: 'quick' }],
      edges: [],
    };
    const handle = t.engine.start(graph, { onEvent: t.onEvent });
    const outcome = await handle.result;
    handle.cancel('too late');
    expect(outcome.status).toBe('completed');
    expect(await handle.result).toBe(outcome);
    expect(t.of('run.cancelled')).toEqual([]);
  });
});

describe('cancelling a run with an AbortSignal', () => {
  it('aborting the signal given to start() cancels the run with its reason', async () => {
    const t = bench();
    const controller = new AbortController();
    const handle = t.engine.start(chain(), { signal: controller.signal, onEvent: t.onEvent });
    await t.hanging;
    controller.abort('tab closed');
    const outcome = await handle.result;
    expect(outcome).toMatchObject({ status: 'cancelled', reason: 'tab closed' });
    expect(t.signals.get('b')?.aborted).toBe(true);
    expect(t.of('node.cancelled').map((e) => [e.nodeId, e.reason])).toEqual([['b', 'tab closed']]);
    expect(t.of('node.skipped').map((e) => [e.nodeId, e.reason])).toEqual([
      ['c', 'cancelled'],
      ['d', 'cancelled'],
    ]);
  });

  it("an Error reason gives its message; no reason gives the platform's abort message", async () => {
    const t1 = bench();
    const c1 = new AbortController();
    const h1 = t1.engine.start(chain(), { signal: c1.signal });
    await t1.hanging;
    c1.abort(new Error('server shutting down'));
    expect(await h1.result).toMatchObject({ status: 'cancelled', reason: 'server shutting down' });

    const t2 = bench();
    const c2 = new AbortController();
    const h2 = t2.engine.start(chain(), { signal: c2.signal });
    await t2.hanging;
    c2.abort();
    const outcome = await h2.result;
    expect(outcome.status).toBe('cancelled');
    if (outcome.status === 'cancelled') expect(outcome.reason.length).toBeGreaterThan(0);
  });

  it('a signal already aborted before start: no node starts, every node is skipped', async () => {
    const t = bench();
    const outcome = await t.engine.run(chain(), {
      signal: AbortSignal.abort('not today'),
      onEvent: t.onEvent,
    });
    expect(outcome).toMatchObject({ status: 'cancelled', reason: 'not today', outputs: {} });
    expect(t.started).toEqual([]);
    expect(t.of('node.started')).toEqual([]);
    expect(t.of('node.skipped').map((e) => [e.nodeId, e.reason])).toEqual([
      ['a', 'cancelled'],
      ['b', 'cancelled'],
      ['c', 'cancelled'],
      ['d', 'cancelled'],
    ]);
    expect(t.of('run.cancelled').map((e) => e.reason)).toEqual(['not today']);
  });
});

describe('billing when a run is cancelled', () => {
  function ledger(options: { reserveGate?: Promise<void> } = {}) {
    const reserveCalled = deferred();
    const billing = {
      reserve: vi.fn<BillingHooks['reserve']>(async () => {
        reserveCalled.resolve();
        await options.reserveGate;
        return { reservationId: 'hold-1' };
      }),
      capture: vi.fn<BillingHooks['capture']>(async () => {}),
      release: vi.fn<BillingHooks['release']>(async () => {}),
    } satisfies BillingHooks;
    const total = (fn: typeof billing.capture | typeof billing.release) =>
      fn.mock.calls.reduce((sum, [args]) => sum + args.amount, 0);
    return { billing, reserveCalled: reserveCalled.promise, total };
  }

  it('releases the rest of the hold (reserve = capture + release); the cancelled node is never captured', async () => {
    const l = ledger();
    const t = bench({ engine: { billing: l.billing } });
    const handle = t.engine.start(chain({ a: 2, b: 3, c: 1, d: 4 }), { onEvent: t.onEvent });
    await t.hanging;
    handle.cancel('stop');
    const outcome = await handle.result;

    expect(l.billing.reserve).toHaveBeenCalledTimes(1);
    expect(l.billing.reserve.mock.calls[0]?.[0].amount).toBe(10);
    expect(l.billing.capture.mock.calls.map(([args]) => [args.nodeId, args.amount])).toEqual([['a', 2]]);
    expect(l.billing.release).toHaveBeenCalledTimes(1);
    expect(l.billing.release.mock.calls[0]?.[0]).toMatchObject({ reservationId: 'hold-1', amount: 8 });
    expect(l.total(l.billing.capture) + l.total(l.billing.release)).toBe(10);
    expect(outcome.cost).toMatchObject({ estimated: 10, reserved: 10, captured: 2, released: 8 });
    expect(t.of('cost.released').map((e) => e.amount)).toEqual([8]);
  });

  // Regression: a hold placed after the run stopped used to leak (never released).
  it('a run cancelled from its run.started listener places no hold, or releases it', async () => {
    const l = ledger();
    const t = bench({ engine: { billing: l.billing } });
    const handle = t.engine.start(chain({ a: 2, b: 3 }), { onEvent: t.onEvent });
    handle.on('run.started', () => handle.cancel('cancelled at once'));
    const outcome = await handle.result;
    await new Promise((r) => setTimeout(r, 10));

    expect(outcome.status).toBe('cancelled');
    expect(t.started).toEqual([]);
    const reserved = l.billing.reserve.mock.calls.reduce((sum, [args]) => sum + args.amount, 0);
    expect(l.total(l.billing.release)).toBe(reserved);
    expect(t.events.at(-1)?.type).toBe('run.cancelled');
  });

  // Regression: a hold placed after the run stopped used to leak (never released).
  it('a run cancelled while its hold is being placed still releases the hold', {
    timeout: 2_000,
  }, async () => {
    const gate = deferred();
    const l = ledger({ reserveGate: gate.promise });
    const t = bench({ engine: { billing: l.billing } });
    const handle = t.engine.start(chain({ a: 2, b: 3 }), { onEvent: t.onEvent });
    await l.reserveCalled;
    handle.cancel('changed my mind');
    gate.resolve();
    const outcome = await handle.result;
    await new Promise((r) => setTimeout(r, 10));

    expect(outcome.status).toBe('cancelled');
    expect(t.started).toEqual([]);
    expect(l.billing.capture).not.toHaveBeenCalled();
    // The hold the host placed must not leak: everything reserved is released.
    expect(l.total(l.billing.release)).toBe(5);
    expect(l.billing.release).toHaveBeenCalledTimes(1);
    // Nothing is reported after the run's terminal event.
    expect(t.events.at(-1)?.type).toBe('run.cancelled');
  });
});

describe('abandoning a run with handle.abandon()', () => {
  it('stops at once and writes, emits and releases nothing more; the node sees a STALE_FENCE abort', async () => {
    const releases: BillingHooks.ReleaseArgs[] = [];
    const billing: BillingHooks = {
      reserve: async () => ({ reservationId: 'hold-1' }),
      capture: async () => {},
      release: async (args) => {
        releases.push(args);
      },
    };
    const t = bench({ hang: 'honour-signal', engine: { billing } });
    const handle = t.engine.start(chain({ a: 1, b: 2, c: 3 }), { onEvent: t.onEvent });
    await t.hanging;
    const saved = await t.engine.store.loadRun({ runId: handle.runId });
    const eventsAtAbandon = t.events.length;
    handle.abandon();
    const outcome = await handle.result;
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'STALE_FENCE' } });
    // The provider job behind `b` must survive for the next owner: the abort is not a cancel.
    expect(t.signals.get('b')?.reason).toMatchObject({ code: 'STALE_FENCE' });
    await new Promise((r) => setTimeout(r, 10));
    expect(t.events.slice(eventsAtAbandon)).toEqual([]);
    expect(releases).toEqual([]);
    expect(t.started).toEqual(['a', 'b']);
    // The checkpoint is as it was: another writer resumes from there.
    expect(await t.engine.store.loadRun({ runId: handle.runId })).toEqual(saved);
  });

  it('abandoned before the run begins: it never starts', async () => {
    const t = bench();
    const handle = t.engine.start(chain(), { onEvent: t.onEvent });
    handle.abandon();
    const outcome = await handle.result;
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'STALE_FENCE' } });
    expect(t.started).toEqual([]);
  });
});

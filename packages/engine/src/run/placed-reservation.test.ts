import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { stepChain as graph } from '../../test/support/step-chain.ts';
import type { CheckpointStore } from '../checkpoint/checkpoint-store.ts';
import { createMemoryCheckpointStore } from '../checkpoint/memory-checkpoint-store.ts';
import type { BillingHooks } from '../cost/billing-hooks.ts';
import type { RunEvent, RunEventType } from '../events/run-events.ts';
import { defineNode } from '../node/define-node.ts';
import { createNodeRegistry } from '../node/node-registry.ts';
import { createEngine } from './create-engine.ts';

/** A host's ledger: reserve is counted (a placed hold must never reach it), captures deduped by key. */
function hostLedger() {
  const captures = new Map<string, BillingHooks.CaptureArgs>();
  const billing = {
    reserve: vi.fn<BillingHooks['reserve']>(async (args) => ({ reservationId: `reserved-${args.runId}` })),
    capture: vi.fn<BillingHooks['capture']>(async (args) => {
      if (!captures.has(args.idempotencyKey)) captures.set(args.idempotencyKey, args);
    }),
    release: vi.fn<BillingHooks['release']>(async () => {}),
  } satisfies BillingHooks;
  return { billing, captures };
}

/**
 * An engine over `store` whose `step` nodes echo their id, except those `hang` names, which wait
 * until the test ends (a worker that stops mid-node). `writes` lists the store's writes in order.
 */
function instance(args: { store: CheckpointStore; billing?: BillingHooks; hang?: readonly string[] }) {
  const writes: string[] = [];
  const started: string[] = [];
  const step = defineNode({
    type: 'step',
    version: 1,
    input: z.object({ in: z.string().optional() }),
    output: z.object({ out: z.string() }),
    config: z.object({ cost: z.number().int() }),
    estimateCost: ({ config }) => config.cost,
    run: async ({ nodeId }) => {
      started.push(nodeId);
      if (args.hang?.includes(nodeId)) await new Promise(() => {});
      return { out: nodeId };
    },
  });
  const { store } = args;
  const recorded: CheckpointStore = {
    ...store,
    createRun: (a) => {
      writes.push(`createRun${a.run.reservation === undefined ? '' : `:${a.run.reservation.id}`}`);
      return store.createRun(a);
    },
    saveRun: (a) => {
      writes.push(`saveRun:${Object.keys(a.patch).sort().join(',')}`);
      return store.saveRun(a);
    },
    saveNode: (a) => {
      writes.push(`saveNode:${a.node.nodeId}:${a.node.status}`);
      return store.saveNode(a);
    },
  };
  const engine = createEngine({
    registry: createNodeRegistry([step]),
    store: recorded,
    retry: { maxAttempts: 1 },
    ...(args.billing === undefined ? {} : { billing: args.billing }),
  });
  const events: RunEvent[] = [];
  const onEvent = (event: RunEvent) => events.push(event);
  const of = <K extends RunEventType>(type: K) =>
    events.filter((e): e is Extract<RunEvent, { type: K }> => e.type === type);
  return { engine, writes, started, events, onEvent, of };
}

describe('a hold the host placed before the start', () => {
  it('is stored with the run, announced, captured against and released, without a reserve or a write of its own', async () => {
    const ledger = hostLedger();
    const t = instance({ store: createMemoryCheckpointStore(), billing: ledger.billing });
    const handle = t.engine.start(graph, { onEvent: t.onEvent, reservation: { id: 'hold-A' } });
    const outcome = await handle.result;

    expect(outcome.status).toBe('completed');
    expect(ledger.billing.reserve).not.toHaveBeenCalled();
    // The hold is in the run's first checkpoint; no run save comes before the first node's.
    expect(t.writes[0]).toBe('createRun:hold-A');
    expect(t.writes[1]).toMatch(/^saveNode:a:/);
    const types = t.events.map((e) => e.type);
    expect(types.slice(0, 3)).toEqual(['run.started', 'cost.reserved', 'node.started']);
    expect(
      t
        .of('cost.reserved')
        .map(({ amount, reservationId, breakdown }) => ({ amount, reservationId, breakdown })),
    ).toEqual([{ amount: 6, reservationId: 'hold-A', breakdown: { a: 2, b: 3, c: 1 } }]);
    expect(ledger.billing.capture.mock.calls.map(([c]) => [c.nodeId, c.reservationId, c.amount])).toEqual([
      ['a', 'hold-A', 2],
      ['b', 'hold-A', 3],
      ['c', 'hold-A', 1],
    ]);
    expect(ledger.billing.release.mock.calls.map(([r]) => [r.reservationId, r.amount])).toEqual([
      ['hold-A', 0],
    ]);
    expect(outcome.cost).toEqual({ estimated: 6, reserved: 6, captured: 6, released: 0, saved: 0 });
    const seqs = t.events.map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });

  it("releases what the host's amount leaves after the captures", async () => {
    const ledger = hostLedger();
    const t = instance({ store: createMemoryCheckpointStore(), billing: ledger.billing });
    const outcome = await t.engine.run(graph, {
      onEvent: t.onEvent,
      reservation: { id: 'hold-B', amount: 10 },
    });

    expect(outcome.cost).toEqual({ estimated: 6, reserved: 10, captured: 6, released: 4, saved: 0 });
    expect(t.of('cost.reserved').map((e) => e.amount)).toEqual([10]);
    expect(ledger.billing.release.mock.calls.map(([r]) => [r.reservationId, r.amount])).toEqual([
      ['hold-B', 4],
    ]);
  });

  it('a run resumed by another worker keeps the hold: no reserve, no second announcement, each node charged once', async () => {
    const store = createMemoryCheckpointStore();
    const ledger = hostLedger();
    const first = instance({ store, billing: ledger.billing, hang: ['b'] });
    const runId = 'run-placed-resume';
    first.engine.start(graph, { runId, reservation: { id: 'hold-C' } });
    await vi.waitFor(() => expect(first.started).toEqual(['a', 'b']));
    expect((await store.loadRun({ runId }))?.run.reservation).toEqual({ id: 'hold-C', amount: 6 });

    const second = instance({ store, billing: ledger.billing });
    const outcome = await second.engine.resume(runId, { onEvent: second.onEvent }).result;

    expect(outcome.status).toBe('completed');
    expect(second.started).toEqual(['b', 'c']);
    expect(ledger.billing.reserve).not.toHaveBeenCalled();
    expect(second.of('cost.reserved')).toEqual([]);
    expect([...ledger.captures.values()].map((c) => [c.nodeId, c.reservationId])).toEqual([
      ['a', 'hold-C'],
      ['b', 'hold-C'],
      ['c', 'hold-C'],
    ]);
    expect(ledger.billing.release.mock.calls.map(([r]) => [r.reservationId, r.amount])).toEqual([
      ['hold-C', 0],
    ]);
  });

  it("a rerun's placed hold defaults to the nodes it runs again", async () => {
    const store = createMemoryCheckpointStore();
    const ledger = hostLedger();
    const t = instance({ store, billing: ledger.billing });
    const parent = t.engine.start(graph);
    await parent.result;
    ledger.billing.reserve.mockClear();

    const rerun = instance({ store, billing: ledger.billing });
    const outcome = await rerun.engine.rerun(
      { runId: parent.runId, from: ['b'] },
      { onEvent: rerun.onEvent, reservation: { id: 'hold-R' } },
    ).result;

    expect(outcome.status).toBe('completed');
    expect(rerun.started).toEqual(['b', 'c']);
    expect(ledger.billing.reserve).not.toHaveBeenCalled();
    expect(rerun.of('cost.reserved').map(({ amount, breakdown }) => ({ amount, breakdown }))).toEqual([
      { amount: 4, breakdown: { b: 3, c: 1 } },
    ]);
    expect(ledger.billing.release.mock.calls.at(-1)?.[0]).toMatchObject({
      reservationId: 'hold-R',
      amount: 0,
    });
  });

  it('a run cancelled before its first node releases the whole hold and charges nothing', async () => {
    const ledger = hostLedger();
    const t = instance({ store: createMemoryCheckpointStore(), billing: ledger.billing });
    const handle = t.engine.start(graph, { onEvent: t.onEvent, reservation: { id: 'hold-D', amount: 6 } });
    handle.cancel('changed my mind');
    const outcome = await handle.result;

    expect(outcome.status).toBe('cancelled');
    expect(t.started).toEqual([]);
    expect(ledger.billing.capture).not.toHaveBeenCalled();
    expect(ledger.billing.release.mock.calls.map(([r]) => [r.reservationId, r.amount])).toEqual([
      ['hold-D', 6],
    ]);
  });

  it('is refused at once, with nothing stored, without billing hooks or with a bad id or amount', () => {
    const store = createMemoryCheckpointStore();
    const unbilled = instance({ store });
    expect(() => unbilled.engine.start(graph, { runId: 'r1', reservation: { id: 'hold' } })).toThrow(
      /needs the engine's `billing` hooks/,
    );
    const billed = instance({ store, billing: hostLedger().billing });
    expect(() => billed.engine.start(graph, { runId: 'r2', reservation: { id: '' } })).toThrow(
      /`reservation.id` must be/,
    );
    for (const amount of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => billed.engine.start(graph, { runId: 'r3', reservation: { id: 'hold', amount } })).toThrow(
        /`reservation.amount` must be a finite number/,
      );
    }
    expect(() =>
      billed.engine.rerun({ runId: 'r0', from: ['a'] }, { reservation: { id: 'hold', amount: -5 } }),
    ).toThrow(TypeError);
    expect(unbilled.writes).toEqual([]);
    expect(billed.writes).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { stepChain as graph } from '../../test/support/step-chain.ts';
import type { CheckpointStore } from '../checkpoint/checkpoint-store.ts';
import { createMemoryCheckpointStore } from '../checkpoint/memory-checkpoint-store.ts';
import type { BillingHooks } from '../cost/billing-hooks.ts';
import { NonRetryableError } from '../errors/non-retryable-error.ts';
import { StaleFenceError } from '../errors/stale-fence-error.ts';
import type { RunEvent, RunEventType } from '../events/run-events.ts';
import { defineNode } from '../node/define-node.ts';
import type { NodeContext } from '../node/node-context.ts';
import { createNodeRegistry } from '../node/node-registry.ts';
import { createEngine } from './create-engine.ts';

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const never = () => new Promise<never>(() => {});

interface JobState {
  jobId: string;
}
type StepCtx = NodeContext<{ in?: string | undefined }, { cost: number }, unknown, JobState>;
type Impl = (ctx: StepCtx) => Promise<{ out: string }> | { out: string };

/** The default behaviour: the output names the node and its input, so lineage is visible. */
const echo: Impl = ({ nodeId, input }) => ({ out: `${nodeId}(${input.in ?? ''})` });

/**
 * One "process": an engine over a shared store (and billing), whose `step` nodes behave as
 * `impls` says (by node id), recording which nodes ran.
 */
function instance(args: { store: CheckpointStore; impls?: Record<string, Impl>; billing?: BillingHooks }) {
  const ran: string[] = [];
  const step = defineNode({
    type: 'step',
    version: 1,
    input: z.object({ in: z.string().optional() }),
    output: z.object({ out: z.string() }),
    config: z.object({ cost: z.number().int().default(0) }),
    state: z.object({ jobId: z.string() }),
    estimateCost: ({ config }) => config.cost,
    run: (ctx) => {
      ran.push(ctx.nodeId);
      return (args.impls?.[ctx.nodeId] ?? echo)(ctx);
    },
  });
  const engine = createEngine({
    registry: createNodeRegistry([step]),
    store: args.store,
    retry: { maxAttempts: 1 },
    ...(args.billing === undefined ? {} : { billing: args.billing }),
  });
  const events: RunEvent[] = [];
  const onEvent = (e: RunEvent) => events.push(e);
  const of = <K extends RunEventType>(type: K) =>
    events.filter((e): e is Extract<RunEvent, { type: K }> => e.type === type);
  return { engine, ran, events, onEvent, of };
}

/**
 * A billing host with a ledger that dedups captures by idempotency key, as the contract requires.
 * `hangCapture` makes a capture apply on the host but never answer (the worker crashes waiting).
 */
function hostLedger(options: { hangCapture?: (args: BillingHooks.CaptureArgs) => boolean } = {}) {
  const reserves: BillingHooks.ReserveArgs[] = [];
  const captureCalls: BillingHooks.CaptureArgs[] = [];
  const applied = new Map<string, number>();
  const releases: BillingHooks.ReleaseArgs[] = [];
  const billing: BillingHooks = {
    reserve: async (args) => {
      reserves.push(args);
      return { reservationId: `hold-${args.idempotencyKey}` };
    },
    capture: async (args) => {
      captureCalls.push(args);
      if (!applied.has(args.idempotencyKey)) applied.set(args.idempotencyKey, args.amount);
      if (options.hangCapture?.(args)) await never();
    },
    release: async (args) => {
      releases.push(args);
    },
  };
  const totalCaptured = () => [...applied.values()].reduce((sum, n) => sum + n, 0);
  return { billing, reserves, captureCalls, applied, releases, totalCaptured };
}

/** Starts `graph` in a first instance whose node `b` saves durable state, then hangs until `gate`. */
async function crashDuringB(store: CheckpointStore, runId: string, extra: { billing?: BillingHooks } = {}) {
  const stateSaved = deferred();
  const gate = deferred<string>();
  const first = instance({
    store,
    ...extra,
    impls: {
      b: async (ctx) => {
        await ctx.state.set({ jobId: 'job-42' });
        stateSaved.resolve();
        return { out: await gate.promise };
      },
    },
  });
  const handle = first.engine.start(graph, { runId, onEvent: first.onEvent });
  await stateSaved.promise;
  return { first, handle, release: (out: string) => gate.resolve(out) };
}

describe('resume', () => {
  it('does not run completed nodes again; their outputs feed the rest, which completes', async () => {
    const store = createMemoryCheckpointStore();
    const { first } = await crashDuringB(store, 'run-resume-basic');
    expect(first.ran).toEqual(['a', 'b']);

    const second = instance({ store });
    const handle = second.engine.resume('run-resume-basic', { onEvent: second.onEvent });
    const outcome = await handle.result;

    expect(handle.runId).toBe('run-resume-basic');
    expect(outcome.status).toBe('completed');
    expect(outcome.outputs).toEqual({ a: { out: 'a()' }, b: { out: 'b(a())' }, c: { out: 'c(b(a()))' } });
    expect(second.ran).toEqual(['b', 'c']);
    expect(second.of('node.started').map((e) => e.nodeId)).toEqual(['b', 'c']);
    expect(second.of('run.started').map((e) => [e.resumed, e.nodeCount])).toEqual([[true, 3]]);
    expect(second.of('run.completed')).toHaveLength(1);

    const stored = await store.loadRun({ runId: 'run-resume-basic' });
    expect(stored?.run.status).toBe('completed');
  });

  it('durable state set in the first run is visible to the resumed attempt', async () => {
    const store = createMemoryCheckpointStore();
    await crashDuringB(store, 'run-resume-state');
    let seen: JobState | undefined;
    const second = instance({
      store,
      impls: {
        b: (ctx) => {
          seen = ctx.state.get();
          return { out: `reattached to ${seen?.jobId}` };
        },
      },
    });
    const outcome = await second.engine.resume('run-resume-state').result;
    expect(seen).toEqual({ jobId: 'job-42' });
    expect(outcome.outputs).toMatchObject({
      b: { out: 'reattached to job-42' },
      c: { out: 'c(reattached to job-42)' },
    });
  });

  it("rejects the first instance's late writes by fencing; it stops without run.completed", async () => {
    const store = createMemoryCheckpointStore();
    const crashed = await crashDuringB(store, 'run-resume-fence');
    const second = instance({ store });
    const resumed = await second.engine.resume('run-resume-fence').result;
    expect(resumed.status).toBe('completed');

    // The first instance was only slow: its node `b` now finishes and tries to write.
    crashed.release('late output');
    const late = await crashed.handle.result;

    expect(late.status).toBe('failed');
    if (late.status === 'failed') {
      expect(late.error).toBeInstanceOf(StaleFenceError);
      expect(late.error.code).toBe('STALE_FENCE');
    }
    expect(crashed.first.of('run.completed')).toEqual([]);
    expect(crashed.first.of('node.completed').map((e) => e.nodeId)).toEqual(['a']);
    expect(crashed.first.ran).toEqual(['a', 'b']);
    const stored = await store.loadRun({ runId: 'run-resume-fence' });
    expect(stored?.nodes.find((n) => n.nodeId === 'b')?.output).toEqual({ out: 'b(a())' });
    expect(stored?.run.status).toBe('completed');
  });

  it('event seq continues after the stored lastSeq, gap-free', async () => {
    const store = createMemoryCheckpointStore();
    const { first } = await crashDuringB(store, 'run-resume-seq');
    const storedLastSeq = (await store.loadRun({ runId: 'run-resume-seq' }))?.run.lastSeq ?? 0;
    expect(storedLastSeq).toBeGreaterThan(0);
    expect(storedLastSeq).toBeLessThanOrEqual(first.events.at(-1)?.seq ?? 0);

    const second = instance({ store });
    await second.engine.resume('run-resume-seq', { onEvent: second.onEvent }).result;
    const seqs = second.events.map((e) => e.seq);
    expect(seqs[0]).toBe(storedLastSeq + 1);
    expect(seqs).toEqual(seqs.map((_, i) => storedLastSeq + 1 + i));
  });

  it('event seq continues after the lastSeq the host passes, when it is higher', async () => {
    const store = createMemoryCheckpointStore();
    await crashDuringB(store, 'run-resume-lastseq');
    const second = instance({ store });
    await second.engine.resume('run-resume-lastseq', { lastSeq: 100, onEvent: second.onEvent }).result;
    expect(second.events.map((e) => e.seq)).toEqual(second.events.map((_, i) => 101 + i));
  });

  it('a lastSeq lower than the stored one is ignored', async () => {
    const store = createMemoryCheckpointStore();
    await crashDuringB(store, 'run-resume-lowseq');
    const storedLastSeq = (await store.loadRun({ runId: 'run-resume-lowseq' }))?.run.lastSeq ?? 0;
    const second = instance({ store });
    await second.engine.resume('run-resume-lowseq', { lastSeq: 1, onEvent: second.onEvent }).result;
    expect(second.events[0]?.seq).toBe(storedLastSeq + 1);
  });

  it('resuming a completed run returns its stored outcome and runs nothing', async () => {
    const store = createMemoryCheckpointStore();
    const first = instance({ store });
    const original = await first.engine.run(graph, { runId: 'run-done' });
    expect(original.status).toBe('completed');

    const second = instance({ store });
    const outcome = await second.engine.resume('run-done', { onEvent: second.onEvent }).result;
    expect(outcome.status).toBe('completed');
    expect(outcome.runId).toBe('run-done');
    expect(outcome.outputs).toEqual(original.outputs);
    expect(second.ran).toEqual([]);
    expect(second.of('node.started')).toEqual([]);
  });

  it('resuming a failed run returns its stored failure and runs nothing', async () => {
    const store = createMemoryCheckpointStore();
    const first = instance({
      store,
      impls: {
        b: () => {
          throw new NonRetryableError('content refused');
        },
      },
    });
    await first.engine.run(graph, { runId: 'run-failed' });

    const second = instance({ store });
    const outcome = await second.engine.resume('run-failed').result;
    expect(outcome.status).toBe('failed');
    if (outcome.status === 'failed') {
      expect(outcome.error.code).toBe('NON_RETRYABLE');
      expect(outcome.error.message).toBe('content refused');
      expect(outcome.nodeId).toBe('b');
    }
    expect(outcome.outputs).toEqual({ a: { out: 'a()' } });
    expect(second.ran).toEqual([]);
  });

  it('resuming a cancelled run returns its stored cancellation and runs nothing', async () => {
    const store = createMemoryCheckpointStore();
    const started = deferred();
    const first = instance({
      store,
      impls: {
        b: () => {
          started.resolve();
          return never();
        },
      },
    });
    const handle = first.engine.start(graph, { runId: 'run-cancelled' });
    await started.promise;
    handle.cancel('user stopped it');
    await handle.result;

    const second = instance({ store });
    const outcome = await second.engine.resume('run-cancelled').result;
    expect(outcome).toMatchObject({ status: 'cancelled', reason: 'user stopped it' });
    expect(second.ran).toEqual([]);
  });

  // Engine bug (reported): the stored outcome leaves never-started nodes out of `estimated`.
  it("resuming an ended run gives the same outputs and cost as the run's own outcome", async () => {
    const store = createMemoryCheckpointStore();
    const ledger = hostLedger();
    const first = instance({
      store,
      billing: ledger.billing,
      impls: {
        b: () => {
          throw new NonRetryableError('content refused');
        },
      },
    });
    const live = await first.engine.run(graph, { runId: 'run-ended-cost' });
    expect(live.status).toBe('failed');
    expect(live.cost).toEqual({ estimated: 6, reserved: 6, captured: 2, released: 4, saved: 0 });

    const second = instance({ store, billing: ledger.billing });
    const stored = await second.engine.resume('run-ended-cost').result;
    expect(stored.outputs).toEqual(live.outputs);
    expect(stored.cost).toEqual(live.cost);
  });

  // Engine bug (reported): the stored outcome always reports `saved: 0`.
  it("resuming an ended rerun reports the credits the rerun saved, like the rerun's own outcome", async () => {
    const store = createMemoryCheckpointStore();
    const first = instance({ store });
    await first.engine.run(graph, { runId: 'run-parent' });
    const live = await first.engine.rerun({ runId: 'run-parent', from: ['c'] }, { runId: 'run-child' })
      .result;
    expect(live.status).toBe('completed');
    expect(live.cost.saved).toBe(5);

    const second = instance({ store });
    const stored = await second.engine.resume('run-child').result;
    expect(stored.outputs).toEqual(live.outputs);
    expect(stored.cost).toEqual(live.cost);
  });

  it('starting a run with an id already in the store fails with RUN_EXISTS and leaves that run alone', async () => {
    const store = createMemoryCheckpointStore();
    const first = instance({ store });
    const original = await first.engine.run(graph, { runId: 'taken' });
    const second = instance({ store });
    const outcome = await second.engine.run(graph, { runId: 'taken' });
    expect(outcome.status === 'failed' && outcome.error.code).toBe('RUN_EXISTS');
    expect(second.ran).toEqual([]);
    const stored = await store.loadRun({ runId: 'taken' });
    expect(stored?.run.status).toBe('completed');
    expect(stored?.nodes.map((n) => n.output)).toEqual(Object.values(original.outputs));
  });

  it('resuming a run stored in another checkpoint format fails with CHECKPOINT_VERSION', async () => {
    const store = createMemoryCheckpointStore();
    const first = instance({ store });
    await first.engine.run(graph, { runId: 'run-old-format' });
    const snapshot = await store.loadRun({ runId: 'run-old-format' });
    const future = createMemoryCheckpointStore();
    await future.createRun({
      run: { ...snapshot!.run, runId: 'run-v2', status: 'running', version: 2 as unknown as 1 },
    });
    const second = instance({ store: future });
    const outcome = await second.engine.resume('run-v2').result;
    expect(outcome.status === 'failed' && outcome.error.code).toBe('CHECKPOINT_VERSION');
    expect(second.ran).toEqual([]);
  });

  it('resuming an unknown run id gives a failed outcome with RUN_NOT_FOUND', async () => {
    const { engine } = instance({ store: createMemoryCheckpointStore() });
    const outcome = await engine.resume('no-such-run').result;
    expect(outcome.status).toBe('failed');
    if (outcome.status === 'failed') expect(outcome.error.code).toBe('RUN_NOT_FOUND');
  });
});

describe('billing on resume', () => {
  it('reuses the hold and captures a node completed (but not captured) before the crash exactly once', async () => {
    const store = createMemoryCheckpointStore();
    const runId = 'run-resume-billing';
    // The first worker crashes while a's capture is in flight: the host applied it, the answer is lost.
    const aCaptureSent = deferred();
    const ledger = hostLedger({
      hangCapture: (args) => {
        if (args.nodeId !== 'a' || ledger.captureCalls.length > 1) return false;
        aCaptureSent.resolve();
        return true;
      },
    });
    const first = instance({ store, billing: ledger.billing });
    first.engine.start(graph, { runId });
    await aCaptureSent.promise;
    expect(first.ran).toEqual(['a']);
    const beforeResume = await store.loadRun({ runId });
    expect(beforeResume?.nodes.find((n) => n.nodeId === 'a')).toMatchObject({
      status: 'completed',
      captured: false,
    });

    const second = instance({ store, billing: ledger.billing });
    const outcome = await second.engine.resume(runId, { onEvent: second.onEvent }).result;

    expect(outcome.status).toBe('completed');
    expect(second.ran).toEqual(['b', 'c']);
    // The hold is reused: no second reserve.
    expect(ledger.reserves).toHaveLength(1);
    expect(ledger.reserves[0]?.amount).toBe(6);
    expect(second.of('cost.reserved')).toEqual([]);
    // The resumed worker repeats a's capture once, with the same key; the host charges it once.
    const aCalls = ledger.captureCalls.filter((c) => c.nodeId === 'a');
    expect(aCalls).toHaveLength(2);
    expect(aCalls.map((c) => c.idempotencyKey)).toEqual([`${runId}:a`, `${runId}:a`]);
    expect(ledger.captureCalls.filter((c) => c.nodeId !== 'a').map((c) => c.nodeId)).toEqual(['b', 'c']);
    expect([...ledger.applied]).toEqual([
      [`${runId}:a`, 2],
      [`${runId}:b`, 3],
      [`${runId}:c`, 1],
    ]);
    expect(ledger.totalCaptured()).toBe(6);
    expect(ledger.releases).toMatchObject([{ runId, reservationId: `hold-${runId}`, amount: 0 }]);
    expect(outcome.cost).toMatchObject({ reserved: 6, captured: 6, released: 0 });
  });

  it('a node captured before the crash is not captured again but counts in the outcome', async () => {
    const store = createMemoryCheckpointStore();
    const runId = 'run-resume-billing-2';
    const ledger = hostLedger();
    await crashDuringB(store, runId, { billing: ledger.billing });
    expect(ledger.captureCalls.map((c) => c.nodeId)).toEqual(['a']);

    const second = instance({ store, billing: ledger.billing });
    const outcome = await second.engine.resume(runId, { onEvent: second.onEvent }).result;

    expect(outcome.status).toBe('completed');
    expect(ledger.reserves).toHaveLength(1);
    expect(ledger.captureCalls.map((c) => c.nodeId)).toEqual(['a', 'b', 'c']);
    expect(ledger.totalCaptured()).toBe(6);
    expect(ledger.releases).toHaveLength(1);
    expect(ledger.releases[0]?.amount).toBe(0);
    expect(outcome.cost).toMatchObject({ reserved: 6, captured: 6, released: 0 });
    expect(second.of('run.started').map((e) => e.estimatedCost)).toEqual([4]);
  });

  it('a resumed run that fails releases the hold minus everything captured across both workers', async () => {
    const store = createMemoryCheckpointStore();
    const runId = 'run-resume-billing-3';
    const ledger = hostLedger();
    await crashDuringB(store, runId, { billing: ledger.billing });
    const second = instance({
      store,
      billing: ledger.billing,
      impls: {
        b: () => {
          throw new NonRetryableError('refused');
        },
      },
    });
    const outcome = await second.engine.resume(runId).result;
    expect(outcome.status).toBe('failed');
    expect(ledger.totalCaptured()).toBe(2);
    expect(ledger.releases.map((r) => r.amount)).toEqual([4]);
  });
});

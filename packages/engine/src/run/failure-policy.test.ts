import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { CheckpointStore } from '../checkpoint/checkpoint-store.ts';
import { createMemoryCheckpointStore } from '../checkpoint/memory-checkpoint-store.ts';
import { EngineError } from '../errors/engine-error.ts';
import { NonRetryableError } from '../errors/non-retryable-error.ts';
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

type Behaviour = (args: { nodeId: string; signal: AbortSignal }) => Promise<void> | void;

/**
 * Nodes of type `step` with up to two inputs; each node's behaviour is looked up by id in
 * `behaviours` (default: succeed at once).
 */
function bench(behaviours: Record<string, Behaviour>, options: Omit<EngineOptions, 'registry'> = {}) {
  const started: string[] = [];
  const signals = new Map<string, AbortSignal>();
  const step = defineNode({
    type: 'step',
    version: 1,
    input: z.object({ a: z.string().optional(), b: z.string().optional() }),
    output: z.object({ out: z.string() }),
    config: z.object({}),
    run: async ({ nodeId, signal }) => {
      started.push(nodeId);
      signals.set(nodeId, signal);
      await behaviours[nodeId]?.({ nodeId, signal });
      return { out: nodeId };
    },
  });
  const engine = createEngine({
    registry: createNodeRegistry([step]),
    retry: { maxAttempts: 1 },
    ...options,
  });
  const events: RunEvent[] = [];
  const onEvent = (e: RunEvent) => events.push(e);
  const of = <K extends RunEventType>(type: K) =>
    events.filter((e): e is Extract<RunEvent, { type: K }> => e.type === type);
  return { engine, started, signals, events, onEvent, of };
}

/** Builds a graph of `step` nodes from `source->target[:port]` edge specs. */
function graph(ids: string[], edges: string[]) {
  return {
    version: 1,
    nodes: ids.map((id) => ({ id, type: 'step' })),
    edges: edges.map((spec) => {
      const [source = '', rest = ''] = spec.split('->');
      const [target = '', port = 'a'] = rest.split(':');
      return { id: spec, source, sourceHandle: 'out', target, targetHandle: port };
    }),
  };
}

describe("failure policy 'finish-branches' (the default)", () => {
  it('skips what depends on the failed node, transitively, and lets independent branches finish', async () => {
    const aFailed = deferred();
    const t = bench({
      a: () => {
        throw new NonRetryableError('content refused by the provider');
      },
      // The independent branch is still running when `a` fails.
      x: () => aFailed.promise,
    });
    const handle = t.engine.start(graph(['a', 'b', 'c', 'd', 'x', 'y'], ['a->b', 'b->c', 'a->d', 'x->y']), {
      onEvent: t.onEvent,
    });
    handle.on('node.failed', () => aFailed.resolve());
    const outcome = await handle.result;

    expect(outcome.status).toBe('failed');
    if (outcome.status !== 'failed') return;
    expect(outcome.nodeId).toBe('a');
    expect(outcome.error).toBeInstanceOf(NonRetryableError);
    expect(outcome.error.code).toBe('NON_RETRYABLE');
    expect(outcome.error.message).toBe('content refused by the provider');
    expect(outcome.outputs).toEqual({ x: { out: 'x' }, y: { out: 'y' } });

    const skipped = t.of('node.skipped').map((e) => [e.nodeId, e.reason, e.causeNodeId]);
    expect(skipped).toHaveLength(3);
    expect(skipped).toEqual(
      expect.arrayContaining([
        ['b', 'upstream-failed', 'a'],
        ['c', 'upstream-failed', 'a'],
        ['d', 'upstream-failed', 'a'],
      ]),
    );
    expect([...t.started].sort()).toEqual(['a', 'x', 'y']);
    expect(t.of('node.completed').map((e) => e.nodeId)).toEqual(['x', 'y']);
    expect(t.of('node.failed').map((e) => [e.nodeId, e.error.code])).toEqual([['a', 'NON_RETRYABLE']]);
    expect(t.of('node.cancelled')).toEqual([]);
    expect(t.of('run.failed').map((e) => [e.nodeId, e.error.code])).toEqual([['a', 'NON_RETRYABLE']]);
    expect(t.events.at(-1)?.type).toBe('run.failed');
  });

  it('a node joining a failed branch and a healthy one is skipped, even after the healthy one completes', async () => {
    const aFailed = deferred();
    const t = bench({
      a: () => {
        throw new Error('boom');
      },
      x: () => aFailed.promise,
    });
    const handle = t.engine.start(graph(['a', 'x', 'join'], ['a->join:a', 'x->join:b']), {
      onEvent: t.onEvent,
    });
    handle.on('node.failed', () => aFailed.resolve());
    const outcome = await handle.result;

    expect(t.started).not.toContain('join');
    expect(t.of('node.skipped').map((e) => [e.nodeId, e.reason, e.causeNodeId])).toEqual([
      ['join', 'upstream-failed', 'a'],
    ]);
    expect(outcome.status === 'failed' && outcome.error.code).toBe('NODE_FAILED');
    expect(outcome.outputs).toEqual({ x: { out: 'x' } });
  });

  it('independent roots waiting for a run slot still run after a failure', async () => {
    const t = bench(
      {
        a: () => {
          throw new NonRetryableError('nope');
        },
      },
      { concurrency: 1 },
    );
    const outcome = await t.engine.run(graph(['a', 'z'], []), { onEvent: t.onEvent });
    expect(t.started).toEqual(['a', 'z']);
    expect(outcome.status).toBe('failed');
    expect(outcome.outputs).toEqual({ z: { out: 'z' } });
  });

  it('with two failures, the outcome names the first', async () => {
    const aFailed = deferred();
    const t = bench({
      a: () => {
        throw new NonRetryableError('first');
      },
      b: async () => {
        await aFailed.promise;
        throw new NonRetryableError('second');
      },
    });
    const handle = t.engine.start(graph(['a', 'b'], []), { onEvent: t.onEvent });
    handle.on('node.failed', () => aFailed.resolve());
    const outcome = await handle.result;
    expect(t.of('node.failed').map((e) => e.nodeId)).toEqual(['a', 'b']);
    expect(outcome.status === 'failed' && [outcome.nodeId, outcome.error.message]).toEqual(['a', 'first']);
  });
});

describe("failure policy 'stop-all'", () => {
  it('aborts running nodes, skips pending ones and starts nothing new', { timeout: 2_000 }, async () => {
    const xStarted = deferred();
    const t = bench(
      {
        a: async () => {
          await xStarted.promise;
          throw new NonRetryableError('key rejected');
        },
        x: ({ signal }) => {
          xStarted.resolve();
          return new Promise<void>((_, reject) => {
            signal.addEventListener('abort', () => reject(signal.reason));
          });
        },
      },
      { failurePolicy: 'stop-all' },
    );
    const outcome = await t.engine.run(graph(['a', 'b', 'x', 'y'], ['a->b', 'x->y']), { onEvent: t.onEvent });

    expect(outcome.status).toBe('failed');
    if (outcome.status !== 'failed') return;
    expect(outcome.nodeId).toBe('a');
    expect(outcome.error.code).toBe('NON_RETRYABLE');
    expect(outcome.error.message).toBe('key rejected');
    expect(outcome.outputs).toEqual({});

    const xSignal = t.signals.get('x');
    expect(xSignal?.aborted).toBe(true);
    expect(xSignal?.reason).toBeInstanceOf(EngineError);
    expect(xSignal?.reason).toMatchObject({ code: 'CANCELLED' });
    expect(t.of('node.cancelled').map((e) => e.nodeId)).toEqual(['x']);
    expect(t.of('node.skipped').map((e) => [e.nodeId, e.reason])).toEqual(
      expect.arrayContaining([
        ['b', 'upstream-failed'],
        ['y', 'run-stopped'],
      ]),
    );
    expect(t.of('node.skipped')).toHaveLength(2);
    expect([...t.started].sort()).toEqual(['a', 'x']);
    // x's rejection after the abort is not reported as another failure.
    expect(t.of('node.failed').map((e) => e.nodeId)).toEqual(['a']);
    expect(t.of('run.failed').map((e) => e.nodeId)).toEqual(['a']);
    expect(t.events.at(-1)?.type).toBe('run.failed');
  });

  // Regression: stop-all used to stop only after the failed node's record was written.
  it('nothing new starts while the failure is being checkpointed (slow store)', {
    timeout: 2_000,
  }, async () => {
    // A store whose write of a failed node record is slow (a remote database, say).
    const inner = createMemoryCheckpointStore();
    const failedWriteStarted = deferred();
    const failedWriteGate = deferred();
    const store: CheckpointStore = {
      ...inner,
      saveNode: async (args) => {
        if (args.node.status === 'failed') {
          failedWriteStarted.resolve();
          await failedWriteGate.promise;
        }
        return inner.saveNode(args);
      },
    };
    const t = bench(
      {
        a: () => {
          throw new NonRetryableError('key rejected');
        },
        // x finishes just after a failed, while a's failure is still being written.
        x: () => failedWriteStarted.promise,
      },
      { failurePolicy: 'stop-all', store },
    );
    const handle = t.engine.start(graph(['a', 'x', 'y'], ['x->y']), { onEvent: t.onEvent });
    await failedWriteStarted.promise;
    // Let x complete and its dependents be scheduled, then let the failure write finish.
    await new Promise((r) => setTimeout(r, 10));
    failedWriteGate.resolve();
    const outcome = await handle.result;

    expect(outcome.status === 'failed' && outcome.nodeId).toBe('a');
    expect(t.started).not.toContain('y');
  });

  it('a node waiting for a run slot never starts', async () => {
    const t = bench(
      {
        a: () => {
          throw new NonRetryableError('nope');
        },
      },
      { failurePolicy: 'stop-all', concurrency: 1 },
    );
    const outcome = await t.engine.run(graph(['a', 'z'], []), { onEvent: t.onEvent });
    await new Promise((r) => setTimeout(r, 10));
    expect(t.started).toEqual(['a']);
    expect(outcome.status).toBe('failed');
    expect(t.of('node.started').map((e) => e.nodeId)).toEqual(['a']);
  });

  it('ends promptly even if a running node ignores its signal', { timeout: 2_000 }, async () => {
    const xStarted = deferred();
    const t = bench(
      {
        a: async () => {
          await xStarted.promise;
          throw new NonRetryableError('nope');
        },
        x: () => {
          xStarted.resolve();
          return new Promise<void>(() => {});
        },
      },
      { failurePolicy: 'stop-all' },
    );
    const outcome = await t.engine.run(graph(['a', 'x'], []));
    expect(outcome.status === 'failed' && outcome.nodeId).toBe('a');
    expect(t.signals.get('x')?.aborted).toBe(true);
  });
});

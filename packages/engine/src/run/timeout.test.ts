import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EngineError } from '../errors/engine-error.ts';
import type { RunEvent, RunEventType } from '../events/run-events.ts';
import { defineNode } from '../node/define-node.ts';
import type { NodeContext } from '../node/node-context.ts';
import { createNodeRegistry } from '../node/node-registry.ts';
import type { RetryPolicy } from '../node/retry-policy.ts';
import { createEngine } from './create-engine.ts';
import type { EngineOptions } from './engine-options.ts';

type Ctx = NodeContext<Record<string, never>, Record<string, never>, unknown, unknown>;
type Run = (ctx: Ctx) => Promise<{ value: string }> | { value: string };

const never = () => new Promise<never>(() => {});
const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function workNode(run: Run, overrides: { timeoutMs?: number; retry?: Partial<RetryPolicy> } = {}) {
  return defineNode({
    type: 'work',
    version: 1,
    input: z.object({}),
    output: z.object({ value: z.string() }),
    config: z.object({}),
    ...overrides,
    run: (ctx) => run(ctx as Ctx),
  });
}

const graph = { version: 1, nodes: [{ id: 'w', type: 'work' }], edges: [] };

async function runOne(
  def: ReturnType<typeof workNode>,
  options: Omit<EngineOptions, 'registry'> = { retry: { maxAttempts: 1 } },
) {
  const engine = createEngine({ registry: createNodeRegistry([def]), random: () => 0, ...options });
  const events: RunEvent[] = [];
  const outcome = await engine.run(graph, { onEvent: (e) => events.push(e) });
  const of = <K extends RunEventType>(type: K) =>
    events.filter((e): e is Extract<RunEvent, { type: K }> => e.type === type);
  return { outcome, of };
}

describe('node timeouts', () => {
  it('an attempt exceeding timeoutMs fails with TIMEOUT, and its signal is aborted', async () => {
    const signals: AbortSignal[] = [];
    const { outcome, of } = await runOne(
      workNode(
        ({ signal }) => {
          signals.push(signal);
          return never();
        },
        { timeoutMs: 20 },
      ),
    );

    expect(outcome.status).toBe('failed');
    if (outcome.status !== 'failed') return;
    expect(outcome.error.code).toBe('TIMEOUT');
    expect(outcome.error.retryable).toBe(true);
    expect(outcome.nodeId).toBe('w');
    expect(of('node.failed').map((e) => [e.nodeId, e.attempt, e.error.code])).toEqual([['w', 1, 'TIMEOUT']]);
    expect(signals).toHaveLength(1);
    expect(signals[0]?.aborted).toBe(true);
    expect(signals[0]?.reason).toBeInstanceOf(EngineError);
    expect(signals[0]?.reason).toMatchObject({ code: 'TIMEOUT' });
  });

  it('a node that rejects when its signal aborts still fails with TIMEOUT', async () => {
    const { outcome } = await runOne(
      workNode(
        ({ signal }) =>
          new Promise((_, reject) => {
            signal.addEventListener('abort', () => reject(new Error('aborted by signal')));
          }),
        { timeoutMs: 20 },
      ),
    );
    expect(outcome.status === 'failed' && outcome.error.code).toBe('TIMEOUT');
  });

  it('a timed-out attempt is retried when attempts remain', async () => {
    const signals: AbortSignal[] = [];
    const { outcome, of } = await runOne(
      workNode(
        ({ attempt, signal }) => {
          signals.push(signal);
          if (attempt === 1) return never();
          return { value: 'second time lucky' };
        },
        { timeoutMs: 20 },
      ),
      { retry: { maxAttempts: 2, initialDelayMs: 1 } },
    );

    expect(outcome.status).toBe('completed');
    expect(outcome.outputs).toEqual({ w: { value: 'second time lucky' } });
    expect(of('node.retrying').map((e) => [e.attempt, e.error.code])).toEqual([[1, 'TIMEOUT']]);
    expect(of('node.completed').map((e) => e.attempt)).toEqual([2]);
    expect(signals.map((s) => s.aborted)).toEqual([true, false]);
  });

  it("the engine's nodeTimeoutMs applies to nodes without their own", async () => {
    const { outcome } = await runOne(
      workNode(() => never()),
      { nodeTimeoutMs: 20, retry: { maxAttempts: 1 } },
    );
    expect(outcome.status === 'failed' && outcome.error.code).toBe('TIMEOUT');
  });

  it("a node's timeoutMs overrides the engine's nodeTimeoutMs (longer)", async () => {
    const { outcome } = await runOne(
      workNode(
        async () => {
          await wait(60);
          return { value: 'slow but allowed' };
        },
        { timeoutMs: 10_000 },
      ),
      { nodeTimeoutMs: 20, retry: { maxAttempts: 1 } },
    );
    expect(outcome.status).toBe('completed');
    expect(outcome.outputs).toEqual({ w: { value: 'slow but allowed' } });
  });

  it("a node's timeoutMs overrides the engine's nodeTimeoutMs (shorter)", async () => {
    const { outcome } = await runOne(
      workNode(() => never(), { timeoutMs: 20 }),
      { nodeTimeoutMs: 60_000, retry: { maxAttempts: 1 } },
    );
    expect(outcome.status === 'failed' && outcome.error.code).toBe('TIMEOUT');
  });

  it('a node that finishes within its timeout completes, its signal not aborted', async () => {
    let seen: AbortSignal | undefined;
    const { outcome } = await runOne(
      workNode(
        async ({ signal }) => {
          seen = signal;
          return { value: 'quick' };
        },
        { timeoutMs: 5_000 },
      ),
    );
    expect(outcome.status).toBe('completed');
    expect(seen?.aborted).toBe(false);
  });
});

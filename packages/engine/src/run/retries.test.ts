import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { NonRetryableError } from '../errors/non-retryable-error.ts';
import { RetryAfterError } from '../errors/retry-after-error.ts';
import type { RunEvent, RunEventType } from '../events/run-events.ts';
import { defineNode } from '../node/define-node.ts';
import type { NodeContext } from '../node/node-context.ts';
import { createNodeRegistry } from '../node/node-registry.ts';
import { backoffDelay, DEFAULT_RETRY_POLICY, type RetryPolicy } from '../node/retry-policy.ts';
import { createEngine } from './create-engine.ts';
import type { NodeErrorReport } from './engine-options.ts';

type Ctx = NodeContext<Record<string, never>, Record<string, never>, unknown, unknown>;
type Run = (ctx: Ctx) => Promise<{ value: string }> | { value: string };

/** One node of type `work`, with the given `run` and node-level overrides. */
function workNode(run: Run, overrides: { retry?: Partial<RetryPolicy>; timeoutMs?: number } = {}) {
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
  retry: Partial<RetryPolicy> = { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 5 },
) {
  const engine = createEngine({ registry: createNodeRegistry([def]), retry, random: () => 0 });
  const events: RunEvent[] = [];
  const outcome = await engine.run(graph, { onEvent: (e) => events.push(e) });
  const of = <K extends RunEventType>(type: K) =>
    events.filter((e): e is Extract<RunEvent, { type: K }> => e.type === type);
  return { outcome, events, of };
}

describe('retries', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a node failing twice with a plain Error then succeeding completes on attempt 3', async () => {
    const attempts: number[] = [];
    const run = vi.fn<Run>(({ attempt }) => {
      attempts.push(attempt);
      if (attempt < 3) throw new Error(`provider returned 503 (try ${attempt})`);
      return { value: 'done' };
    });
    const { outcome, of } = await runOne(workNode(run));

    expect(outcome.status).toBe('completed');
    expect(outcome.outputs).toEqual({ w: { value: 'done' } });
    expect(run).toHaveBeenCalledTimes(3);
    expect(attempts).toEqual([1, 2, 3]);
    expect(of('node.started').map((e) => e.attempt)).toEqual([1, 2, 3]);
    expect(of('node.completed').map((e) => e.attempt)).toEqual([3]);
    const retrying = of('node.retrying');
    expect(retrying).toHaveLength(2);
    expect(retrying.map((e) => [e.nodeId, e.attempt, e.error.code, e.error.retryable])).toEqual([
      ['w', 1, 'NODE_FAILED', true],
      ['w', 2, 'NODE_FAILED', true],
    ]);
    expect(retrying[0]?.error.message).toBe('provider returned 503 (try 1)');
    expect(of('node.failed')).toEqual([]);
  });

  it('a thrown non-Error value is retried like a plain Error', async () => {
    let calls = 0;
    const { outcome, of } = await runOne(
      workNode(() => {
        calls++;
        if (calls === 1) throw 'socket hang up';
        return { value: 'ok' };
      }),
    );
    expect(outcome.status).toBe('completed');
    expect(of('node.retrying').map((e) => e.error.message)).toEqual(['socket hang up']);
  });

  it('NonRetryableError fails at once, after one attempt', async () => {
    const run = vi.fn<Run>(() => {
      throw new NonRetryableError('Your key was rejected');
    });
    const { outcome, of } = await runOne(workNode(run), { maxAttempts: 5, initialDelayMs: 1 });

    expect(run).toHaveBeenCalledTimes(1);
    expect(of('node.retrying')).toEqual([]);
    expect(of('node.failed').map((e) => [e.nodeId, e.attempt, e.error.code])).toEqual([
      ['w', 1, 'NON_RETRYABLE'],
    ]);
    expect(outcome.status).toBe('failed');
    if (outcome.status !== 'failed') return;
    expect(outcome.error).toBeInstanceOf(NonRetryableError);
    expect(outcome.error.code).toBe('NON_RETRYABLE');
    expect(outcome.error.message).toBe('Your key was rejected');
    expect(outcome.nodeId).toBe('w');
  });

  it('an output that does not match the schema fails without retries', async () => {
    const run = vi.fn<Run>(() => ({ value: 42 }) as unknown as { value: string });
    const { outcome, of } = await runOne(workNode(run));
    expect(run).toHaveBeenCalledTimes(1);
    expect(of('node.retrying')).toEqual([]);
    expect(outcome.status === 'failed' && outcome.error.code).toBe('SCHEMA_VALIDATION');
  });

  it('RetryAfterError: the next attempt waits its afterMs (node.retrying.delayMs equals it)', async () => {
    let calls = 0;
    const { outcome, of } = await runOne(
      workNode(() => {
        calls++;
        if (calls === 1) throw new RetryAfterError('rate limited', { afterMs: 12 });
        return { value: 'ok' };
      }),
      { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 1_000 },
    );
    expect(outcome.status).toBe('completed');
    expect(of('node.retrying').map((e) => [e.attempt, e.delayMs, e.error.code])).toEqual([
      [1, 12, 'RETRY_AFTER'],
    ]);
    expect(of('node.retrying')[0]?.error.details).toEqual({ afterMs: 12 });
  });

  it('RetryAfterError: the delay is capped by maxDelayMs', async () => {
    let calls = 0;
    const { outcome, of } = await runOne(
      workNode(() => {
        calls++;
        if (calls === 1) throw new RetryAfterError('rate limited', { afterMs: 3_600_000 });
        return { value: 'ok' };
      }),
      { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 8 },
    );
    expect(outcome.status).toBe('completed');
    expect(of('node.retrying').map((e) => e.delayMs)).toEqual([8]);
  });

  it('RetryAfterError: no attempt starts before afterMs has passed (fake clock)', async () => {
    vi.useFakeTimers();
    const attempts: number[] = [];
    const def = workNode(({ attempt }) => {
      attempts.push(attempt);
      if (attempt === 1) throw new RetryAfterError('rate limited', { afterMs: 5_000 });
      return { value: 'ok' };
    });
    const engine = createEngine({
      registry: createNodeRegistry([def]),
      retry: { maxAttempts: 2, maxDelayMs: 60_000 },
    });
    const handle = engine.start(graph);
    const retrying = new Promise((resolve) => handle.once('node.retrying', resolve));
    await retrying;
    expect(attempts).toEqual([1]);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(attempts).toEqual([1]);
    await vi.advanceTimersByTimeAsync(1);
    expect(attempts).toEqual([1, 2]);
    const outcome = await handle.result;
    expect(outcome.status).toBe('completed');
  });

  it('RetryAfterError on the last attempt fails with RETRY_AFTER', async () => {
    const run = vi.fn<Run>(() => {
      throw new RetryAfterError('still rate limited', { afterMs: 1 });
    });
    const { outcome } = await runOne(workNode(run), { maxAttempts: 2, initialDelayMs: 1 });
    expect(run).toHaveBeenCalledTimes(2);
    expect(outcome.status === 'failed' && outcome.error.code).toBe('RETRY_AFTER');
  });

  it("attempts are bounded by the engine's maxAttempts", async () => {
    const run = vi.fn<Run>(() => {
      throw new Error('always down');
    });
    const { outcome, of } = await runOne(workNode(run), { maxAttempts: 2, initialDelayMs: 1 });
    expect(run).toHaveBeenCalledTimes(2);
    expect(of('node.retrying')).toHaveLength(1);
    expect(of('node.failed').map((e) => [e.attempt, e.error.code])).toEqual([[2, 'NODE_FAILED']]);
    expect(outcome.status).toBe('failed');
    if (outcome.status === 'failed') {
      expect(outcome.error.code).toBe('NODE_FAILED');
      expect(outcome.error.message).toBe('always down');
      expect(outcome.nodeId).toBe('w');
    }
  });

  it("a node's own retry policy overrides the engine's (more attempts)", async () => {
    const run = vi.fn<Run>(() => {
      throw new Error('always down');
    });
    const { of } = await runOne(workNode(run, { retry: { maxAttempts: 4 } }), {
      maxAttempts: 2,
      initialDelayMs: 1,
    });
    expect(run).toHaveBeenCalledTimes(4);
    expect(of('node.failed').map((e) => e.attempt)).toEqual([4]);
  });

  it("a node's own retry policy overrides the engine's (fewer attempts, its own delays)", async () => {
    const once = vi.fn<Run>(() => {
      throw new Error('down');
    });
    await runOne(workNode(once, { retry: { maxAttempts: 1 } }), { maxAttempts: 5, initialDelayMs: 1 });
    expect(once).toHaveBeenCalledTimes(1);

    let calls = 0;
    const { of } = await runOne(
      workNode(
        () => {
          calls++;
          if (calls < 3) throw new Error('down');
          return { value: 'ok' };
        },
        { retry: { initialDelayMs: 4, factor: 3, jitter: 0 } },
      ),
      { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 100 },
    );
    expect(of('node.retrying').map((e) => e.delayMs)).toEqual([4, 12]);
  });

  it('backoff delays use the random source for jitter', async () => {
    let calls = 0;
    const def = workNode(() => {
      calls++;
      if (calls < 3) throw new Error('down');
      return { value: 'ok' };
    });
    const engine = createEngine({
      registry: createNodeRegistry([def]),
      retry: { maxAttempts: 3, initialDelayMs: 4, factor: 2, jitter: 0.5 },
      random: () => 0,
    });
    const delays: number[] = [];
    const handle = engine.start(graph);
    handle.on('node.retrying', (e) => delays.push(e.delayMs));
    await handle.result;
    // random 0 gives the low end of the jitter range: half the delay.
    expect(delays).toEqual([2, 4]);
  });
});

describe('backoffDelay', () => {
  const policy: RetryPolicy = {
    maxAttempts: 10,
    initialDelayMs: 100,
    maxDelayMs: 1_000,
    factor: 2,
    jitter: 0,
  };

  it('grows exponentially by factor and is capped at maxDelayMs', () => {
    const delays = [1, 2, 3, 4, 5, 6, 20].map((attempt) => backoffDelay({ policy, attempt, random: 0.5 }));
    expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000]);
  });

  it('treats attempts below 1 as the first', () => {
    expect(backoffDelay({ policy, attempt: 0, random: 0 })).toBe(100);
  });

  it('matches the documented default example', () => {
    expect(backoffDelay({ policy: { ...DEFAULT_RETRY_POLICY, jitter: 0 }, attempt: 2, random: 0.5 })).toBe(
      2_000,
    );
  });

  it('jitter randomises the delay within [base * (1 - jitter), base]', () => {
    const jittered = { ...policy, jitter: 0.5 };
    expect(backoffDelay({ policy: jittered, attempt: 2, random: 0 })).toBe(100);
    expect(backoffDelay({ policy: jittered, attempt: 2, random: 0.5 })).toBe(150);
    expect(backoffDelay({ policy: jittered, attempt: 2, random: 0.999_999 })).toBe(200);
    for (let i = 0; i < 200; i++) {
      const random = i / 200;
      const delay = backoffDelay({ policy: jittered, attempt: 3, random });
      expect(delay).toBeGreaterThanOrEqual(200);
      expect(delay).toBeLessThanOrEqual(400);
    }
  });

  it('jitter is clamped to [0, 1]', () => {
    expect(backoffDelay({ policy: { ...policy, jitter: 5 }, attempt: 1, random: 0 })).toBe(0);
    expect(backoffDelay({ policy: { ...policy, jitter: 5 }, attempt: 1, random: 0.25 })).toBe(25);
    expect(backoffDelay({ policy: { ...policy, jitter: -1 }, attempt: 1, random: 0.9 })).toBe(100);
  });

  it('the cap applies before jitter', () => {
    expect(backoffDelay({ policy: { ...policy, jitter: 1 }, attempt: 30, random: 0.5 })).toBe(500);
  });
});

describe('hooks.onNodeError', () => {
  const fast = { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 5 };

  it('reports each failed attempt with the error object and its cause, retried then final', async () => {
    const reports: NodeErrorReport[] = [];
    const socket = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', syscall: 'read' });
    const def = workNode(() => {
      throw new TypeError('fetch failed', { cause: socket });
    });
    const engine = createEngine({
      registry: createNodeRegistry([def]),
      retry: fast,
      random: () => 0,
      hooks: { onNodeError: (report) => reports.push(report) },
    });
    const outcome = await engine.run(graph);

    expect(outcome.status).toBe('failed');
    expect(
      reports.map((r) => [r.runId === outcome.runId, r.nodeId, r.nodeType, r.attempt, r.retrying]),
    ).toEqual([
      [true, 'w', 'work', 1, true],
      [true, 'w', 'work', 2, true],
      [true, 'w', 'work', 3, false],
    ]);
    const first = reports[0]?.error;
    expect(first?.code).toBe('NODE_FAILED');
    // The thrown error is kept as the cause, with its own cause (the system error) below it.
    expect(first?.cause).toBeInstanceOf(TypeError);
    expect((first?.cause as Error | undefined)?.cause).toBe(socket);
  });

  it('is not called when attempts succeed, and what it throws changes nothing', async () => {
    let calls = 0;
    const hooks = {
      onNodeError: () => {
        calls++;
        throw new Error('the logger is broken');
      },
    };
    const flaky = workNode(({ attempt }) => {
      if (attempt === 1) throw new Error('503');
      return { value: 'ok' };
    });
    const engine = createEngine({
      registry: createNodeRegistry([flaky]),
      retry: fast,
      random: () => 0,
      hooks,
    });
    expect((await engine.run(graph)).status).toBe('completed');
    expect(calls).toBe(1);

    const steady = createEngine({ registry: createNodeRegistry([workNode(() => ({ value: 'ok' }))]), hooks });
    expect((await steady.run(graph)).status).toBe('completed');
    expect(calls).toBe(1);
  });
});

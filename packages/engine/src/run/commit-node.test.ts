import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { recordingBilling } from '../../test/support/recording-billing.ts';
import type { CheckpointStore } from '../checkpoint/checkpoint-store.ts';
import { createMemoryCheckpointStore } from '../checkpoint/memory-checkpoint-store.ts';
import { NonRetryableError } from '../errors/non-retryable-error.ts';
import { StaleFenceError } from '../errors/stale-fence-error.ts';
import type { RunEvent } from '../events/run-events.ts';
import { defineNode } from '../node/define-node.ts';
import { createNodeRegistry } from '../node/node-registry.ts';
import { createEngine } from './create-engine.ts';

/** A `paid` node costs `config.cost` credits. */
const paid = defineNode({
  type: 'paid',
  version: 1,
  input: z.object({ in: z.string().optional() }),
  output: z.object({ out: z.string() }),
  config: z.object({ cost: z.number().int() }),
  estimateCost: ({ config }) => config.cost,
  run: ({ nodeId }) => ({ out: nodeId }),
});

/** a (1) → b (2) → c (0, free). */
const graph = {
  version: 1,
  nodes: [
    { id: 'a', type: 'paid', config: { cost: 1 } },
    { id: 'b', type: 'paid', config: { cost: 2 } },
    { id: 'c', type: 'paid', config: { cost: 0 } },
  ],
  edges: [
    { id: 'e1', source: 'a', sourceHandle: 'out', target: 'b', targetHandle: 'in' },
    { id: 'e2', source: 'b', sourceHandle: 'out', target: 'c', targetHandle: 'in' },
  ],
};

/**
 * A memory store with `commitNode`, as a host whose ledger shares the store's database would
 * write it: the capture and the save happen together (here: the capture is logged, then saved).
 */
function setup(options: { commit?: (args: CheckpointStore.CommitNodeArgs) => Promise<void> } = {}) {
  const log: string[] = [];
  const memory = createMemoryCheckpointStore();
  const commitNode = vi.fn(async (args: CheckpointStore.CommitNodeArgs) => {
    await options.commit?.(args);
    log.push(`commit:${args.node.nodeId}:${args.capture.amount}:${String(args.node.captured)}`);
    await memory.saveNode(args);
  });
  const saveNode = vi.fn((args: CheckpointStore.SaveNodeArgs) => {
    log.push(`save:${args.node.nodeId}:${args.node.status}`);
    return memory.saveNode(args);
  });
  const store: CheckpointStore = { ...memory, saveNode, commitNode };
  const billing = recordingBilling(log);
  const engine = createEngine({
    registry: createNodeRegistry([paid]),
    store,
    billing,
    retry: { maxAttempts: 1 },
  });
  const events: RunEvent[] = [];
  return { engine, store, memory, commitNode, saveNode, billing, log, events };
}

describe('a store with commitNode', () => {
  it('saves and charges each paid success in one call, with the capture the hooks would get', async () => {
    const t = setup();
    const handle = t.engine.start(graph, { onEvent: (event) => t.events.push(event) });
    const outcome = await handle.result;
    const runId = handle.runId;

    expect(outcome.status).toBe('completed');
    expect(t.billing.capture).not.toHaveBeenCalled();
    expect(t.commitNode.mock.calls.map(([args]) => args.capture)).toEqual([
      { runId, reservationId: 'hold-1', nodeId: 'a', amount: 1, idempotencyKey: `${runId}:a` },
      { runId, reservationId: 'hold-1', nodeId: 'b', amount: 2, idempotencyKey: `${runId}:b` },
    ]);
    // One write per paid node, already marked captured; the free node is saved as before.
    expect(t.log).toEqual(['commit:a:1:true', 'commit:b:2:true', 'save:c:completed', 'release:0']);
    expect(t.events.filter((e) => e.type === 'cost.captured').map((e) => [e.nodeId, e.amount])).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    expect(outcome.cost).toEqual({ estimated: 3, reserved: 3, captured: 3, released: 0, saved: 0 });
    const stored = await t.memory.loadRun({ runId });
    expect(stored?.nodes.map((node) => [node.nodeId, node.status, node.captured])).toEqual([
      ['a', 'completed', true],
      ['b', 'completed', true],
      ['c', 'completed', true],
    ]);
  });

  it('a failing commit fails the run at that node, charges nothing more and releases the rest', async () => {
    const t = setup({
      commit: async ({ node }) => {
        if (node.nodeId === 'b') throw new NonRetryableError('the hold was released');
      },
    });
    const outcome = await t.engine.run(graph, { onEvent: (event) => t.events.push(event) });

    expect(outcome.status).toBe('failed');
    if (outcome.status !== 'failed') return;
    expect(outcome.nodeId).toBe('b');
    expect(outcome.error.message).toContain('the hold was released');
    expect(t.log).toEqual(['commit:a:1:true', 'release:2']);
    expect(outcome.cost.captured).toBe(1);
  });

  it('a stale fence stops the run as a lost writer: no failure recorded, nothing released', async () => {
    const t = setup({
      commit: async ({ runId, fence, node }) => {
        if (node.nodeId === 'b') throw new StaleFenceError({ runId, fence, current: fence + 1 });
      },
    });
    const outcome = await t.engine.run(graph, { onEvent: (event) => t.events.push(event) });

    expect(outcome.status).toBe('failed');
    if (outcome.status !== 'failed') return;
    expect(outcome.error.code).toBe('STALE_FENCE');
    expect(t.billing.release).not.toHaveBeenCalled();
    expect(t.events.some((e) => e.type === 'run.failed')).toBe(false);
  });
});

import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { recordingBilling } from '../../test/support/recording-billing.ts';
import type { CheckpointStore } from '../checkpoint/checkpoint-store.ts';
import { createMemoryCheckpointStore } from '../checkpoint/memory-checkpoint-store.ts';
import { NonRetryableError } from '../errors/non-retryable-error.ts';
import type { RunEvent } from '../events/run-events.ts';
import { defineNode } from '../node/define-node.ts';
import { createNodeRegistry } from '../node/node-registry.ts';
import { createEngine } from './create-engine.ts';

const paid = defineNode({
  type: 'paid',
  version: 1,
  input: z.object({}),
  output: z.object({ out: z.string() }),
  config: z.object({ cost: z.number().int() }),
  estimateCost: ({ config }) => config.cost,
  run: ({ nodeId }) => ({ out: nodeId }),
});

/** A paid node that always fails (nothing captured). */
const failing = defineNode({
  ...paid,
  type: 'failing',
  run: () => {
    throw new NonRetryableError('no luck');
  },
});

/** Two paid nodes, 2 and 3 credits. */
const graph = {
  version: 1,
  nodes: [
    { id: 'a', type: 'paid', config: { cost: 2 } },
    { id: 'b', type: 'paid', config: { cost: 3 } },
  ],
  edges: [],
};

/**
 * A memory store with `commitRunEnd` answering what `answer` says (after saving the patch when it
 * answers true, as a store that releases in the same write would), and a log of the end's writes.
 */
function setup(answer: (args: CheckpointStore.CommitRunEndArgs) => Promise<boolean>) {
  const log: string[] = [];
  const memory = createMemoryCheckpointStore();
  const commitRunEnd = vi.fn(async (args: CheckpointStore.CommitRunEndArgs) => {
    const done = await answer(args);
    log.push(`commit-end:${args.patch.status}:${args.release.amount}:${String(done)}`);
    if (done) await memory.saveRun(args);
    return done;
  });
  const saveRun = vi.fn((args: CheckpointStore.SaveRunArgs) => {
    if (args.patch.status !== undefined || args.patch.releasePending !== undefined)
      log.push(`save-run:${args.patch.status ?? '-'}:${String(args.patch.releasePending)}`);
    return memory.saveRun(args);
  });
  const store: CheckpointStore = { ...memory, saveRun, commitRunEnd };
  const billing = recordingBilling(log);
  const engine = createEngine({
    registry: createNodeRegistry([paid, failing]),
    store,
    billing,
    retry: { maxAttempts: 1 },
  });
  return { engine, memory, commitRunEnd, billing, log };
}

describe('a store with commitRunEnd', () => {
  it('ends a run in one write: the end saved with nothing pending and the rest released together', async () => {
    const t = setup(async () => true);
    const events: RunEvent[] = [];
    const handle = t.engine.start(graph, { onEvent: (event) => events.push(event) });
    const outcome = await handle.result;

    expect(outcome.status).toBe('completed');
    expect(t.log).toEqual(['commit-end:completed:0:true']);
    expect(t.billing.release).not.toHaveBeenCalled();
    expect(t.commitRunEnd.mock.calls[0]?.[0].release).toEqual({
      runId: handle.runId,
      reservationId: 'hold-1',
      amount: 0,
      idempotencyKey: `${handle.runId}:release`,
    });
    // Same events as with three writes: the release, then the terminal event, numbered on.
    const types = events.map((event) => event.type);
    expect(types.slice(-2)).toEqual(['cost.released', 'run.completed']);
    const stored = (await t.memory.loadRun({ runId: handle.runId }))?.run;
    expect(stored).toMatchObject({ status: 'completed', releasePending: false, released: 0 });
    expect(stored?.lastSeq).toBe(events.at(-1)?.seq);
  });

  it('releases what a failed run did not spend, in the same write', async () => {
    const t = setup(async () => true);
    const outcome = await t.engine.run({
      ...graph,
      nodes: [graph.nodes[0], { id: 'f', type: 'failing', config: { cost: 3 } }],
    });
    expect(outcome.status).toBe('failed');
    expect(t.log).toEqual(['commit-end:failed:3:true']);
    expect(outcome.cost).toMatchObject({ captured: 2, released: 3 });
  });

  it('falls back to the three writes when the store could not do both, or failed', async () => {
    const refused = setup(async () => false);
    expect((await refused.engine.run(graph)).status).toBe('completed');
    expect(refused.log).toEqual([
      'commit-end:completed:0:false',
      'save-run:completed:true',
      'release:0',
      'save-run:-:false',
    ]);

    const failed = setup(async () => Promise.reject(new Error('connection reset')));
    expect((await failed.engine.run(graph)).status).toBe('completed');
    expect(failed.log).toEqual(['save-run:completed:true', 'release:0', 'save-run:-:false']);
  });

  it('a run taken over meanwhile stops as a lost writer at the fallback: nothing released', async () => {
    let memoryOf: ReturnType<typeof createMemoryCheckpointStore> | undefined;
    const t = setup(async (args) => {
      await memoryOf?.claimRun({ runId: args.runId }); // another worker took the run
      return false;
    });
    memoryOf = t.memory;
    const events: RunEvent[] = [];
    const outcome = await t.engine.run(graph, { onEvent: (event) => events.push(event) });
    expect(outcome.status).toBe('failed');
    if (outcome.status !== 'failed') return;
    expect(outcome.error.code).toBe('STALE_FENCE');
    expect(t.billing.release).not.toHaveBeenCalled();
    expect(events.some((event) => event.type === 'run.failed' || event.type === 'cost.released')).toBe(false);
  });

  it('is not called for a run that reserved nothing', async () => {
    const t = setup(async () => true);
    const free = { ...graph, nodes: graph.nodes.map((node) => ({ ...node, config: { cost: 0 } })) };
    expect((await t.engine.run(free)).status).toBe('completed');
    expect(t.commitRunEnd).not.toHaveBeenCalled();
    expect(t.log).toEqual(['save-run:completed:false']);
  });
});

import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EngineError } from '../errors/engine-error.ts';
import { defineNode } from '../node/define-node.ts';
import { createNodeRegistry } from '../node/node-registry.ts';
import { createEngine } from '../run/create-engine.ts';
import { checkCheckpointFormat, checkpointFormatOf } from './check-checkpoint-format.ts';
import { CHECKPOINT_FORMAT_VERSION, type NodeRecord, type RunRecord } from './checkpoint-records.ts';
import { createMemoryCheckpointStore } from './memory-checkpoint-store.ts';

/** An engine whose `step` nodes append their id to their input, recording which nodes ran. */
function instance(store = createMemoryCheckpointStore()) {
  const ran: string[] = [];
  const step = defineNode({
    type: 'step',
    version: 1,
    input: z.object({ in: z.string().optional() }),
    output: z.object({ out: z.string() }),
    config: z.object({}),
    run: ({ nodeId, input }) => {
      ran.push(nodeId);
      return { out: `${input.in ?? ''}${nodeId}` };
    },
  });
  const engine = createEngine({ registry: createNodeRegistry([step]), store, retry: { maxAttempts: 1 } });
  return { engine, store, ran };
}

/**
 * A run checkpointed by a store from before records carried `version`, exactly as it held it: the
 * run record has no `version`, node `a` completed, node `b` was running at the crash.
 */
const OLD_FORMAT_RUN = `{
  "runId": "run-before-versions",
  "graph": {
    "version": 1,
    "nodes": [
      { "id": "a", "type": "step", "config": {} },
      { "id": "b", "type": "step", "config": {} }
    ],
    "edges": [{ "id": "ab", "source": "a", "sourceHandle": "out", "target": "b", "targetHandle": "in" }]
  },
  "status": "running",
  "createdAt": 1767225600000,
  "updatedAt": 1767225601000,
  "lastSeq": 3
}`;
const OLD_FORMAT_NODES = `[
  { "nodeId": "a", "status": "completed", "attempt": 1, "output": { "out": "a" }, "cost": 0, "captured": true,
    "startedAt": 1767225600100, "endedAt": 1767225600200 },
  { "nodeId": "b", "status": "running", "attempt": 1, "cost": 0, "captured": true, "startedAt": 1767225600300 }
]`;

describe('checkpoint format version', () => {
  it('reads a record without `version` as format 1, and a record with one as its version', () => {
    expect(CHECKPOINT_FORMAT_VERSION).toBe(1);
    expect(checkpointFormatOf({})).toBe(1);
    expect(checkpointFormatOf({ version: 1 })).toBe(1);
    expect(checkpointFormatOf({ version: 7 })).toBe(7);
  });

  it('accepts the current format and records without a version', () => {
    expect(() => checkCheckpointFormat({ runId: 'r', version: CHECKPOINT_FORMAT_VERSION })).not.toThrow();
    expect(() => checkCheckpointFormat({ runId: 'r' })).not.toThrow();
  });

  it('refuses a newer format with a non-retryable CHECKPOINT_VERSION error that names it and says what to do', () => {
    const error = (() => {
      try {
        checkCheckpointFormat({ runId: 'run-future', version: CHECKPOINT_FORMAT_VERSION + 1 });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(EngineError);
    const { code, retryable, message } = error as EngineError;
    expect({ code, retryable }).toEqual({ code: 'CHECKPOINT_VERSION', retryable: false });
    expect(message).toContain('run-future');
    expect(message).toContain(`format ${CHECKPOINT_FORMAT_VERSION + 1}`);
    expect(message).toContain('@vidgenie/engine release');
  });

  it('refuses a version no engine writes', () => {
    for (const version of [0, -1, 1.5, '1', null]) {
      expect(() => checkCheckpointFormat({ runId: 'r', version })).toThrow(/checkpoint format/);
    }
  });

  it('resumes a run stored without a version, without running its completed node again', async () => {
    const { engine, store, ran } = instance();
    await store.createRun({
      run: JSON.parse(OLD_FORMAT_RUN) as RunRecord,
      nodes: JSON.parse(OLD_FORMAT_NODES) as NodeRecord[],
    });

    const outcome = await engine.resume('run-before-versions').result;

    expect(outcome.status).toBe('completed');
    expect(outcome.outputs).toEqual({ a: { out: 'a' }, b: { out: 'ab' } });
    expect(ran).toEqual(['b']);
    const stored = await store.loadRun({ runId: 'run-before-versions' });
    expect(stored?.run.status).toBe('completed');
    expect(stored?.nodes.find((n) => n.nodeId === 'b')?.status).toBe('completed');
  });

  it('a finished run stored without a version resumes to its stored outcome without running anything', async () => {
    const { engine, store, ran } = instance();
    const run = { ...(JSON.parse(OLD_FORMAT_RUN) as RunRecord), status: 'completed' as const };
    const nodes = (JSON.parse(OLD_FORMAT_NODES) as NodeRecord[]).map((n) =>
      n.nodeId === 'b' ? { ...n, status: 'completed' as const, output: { out: 'ab' } } : n,
    );
    await store.createRun({ run, nodes });

    const outcome = await engine.resume('run-before-versions').result;

    expect(outcome.status).toBe('completed');
    expect(outcome.outputs).toEqual({ a: { out: 'a' }, b: { out: 'ab' } });
    expect(ran).toEqual([]);
  });

  it('leaves a run of a newer format untouched: the resume fails with CHECKPOINT_VERSION and runs nothing', async () => {
    const { engine, store, ran } = instance();
    const run = { ...(JSON.parse(OLD_FORMAT_RUN) as RunRecord), version: 2 as unknown as 1 };
    await store.createRun({ run, nodes: JSON.parse(OLD_FORMAT_NODES) as NodeRecord[] });

    const outcome = await engine.resume('run-before-versions').result;

    expect(outcome.status === 'failed' && outcome.error.code).toBe('CHECKPOINT_VERSION');
    expect(ran).toEqual([]);
    const stored = await store.loadRun({ runId: 'run-before-versions' });
    expect(stored?.fence).toBe(1);
    expect(stored?.run.status).toBe('running');
  });
});

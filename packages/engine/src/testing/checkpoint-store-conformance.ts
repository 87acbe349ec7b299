import {
  CHECKPOINT_FORMAT_VERSION,
  type NodeRecord,
  type RunRecord,
} from '../checkpoint/checkpoint-records.ts';
import type { CheckpointStore } from '../checkpoint/checkpoint-store.ts';
import { EngineError } from '../errors/engine-error.ts';
import type { EngineErrorCode } from '../errors/engine-error-code.ts';

/** One conformance case: a name and a check that throws when the store misbehaves. */
export interface ConformanceCase {
  readonly name: string;
  run(store: CheckpointStore): Promise<void>;
}

/** The test functions of a runner (Vitest, Jest, node:test all fit). */
export interface ConformanceRunner {
  describe(name: string, body: () => void): void;
  it(name: string, body: () => Promise<void>): void;
}

/**
 * Registers the checkpoint store conformance suite with a test runner. Every store (the in-memory
 * one, the server's Postgres one, yours) must pass it. `createStore` is called once per case and
 * must return an empty store, or one whose run ids cannot clash (cases use random ids).
 *
 * @example
 * ```ts
 * import { describe, it } from 'vitest';
 * import { createMemoryCheckpointStore } from '@vidgenie/engine';
 * import { describeCheckpointStoreConformance } from '@vidgenie/engine/testing';
 * describeCheckpointStoreConformance({ name: 'memory', createStore: () => createMemoryCheckpointStore(), describe, it });
 * ```
 */
export function describeCheckpointStoreConformance(
  args: ConformanceRunner & {
    readonly name: string;
    readonly createStore: () => CheckpointStore | Promise<CheckpointStore>;
    /**
     * For a store that implements `commitNode`: places a hold of `amount` credits for a run the
     * suite created and returns its reservation id, so the suite's commits have something to
     * charge. The commitNode cases run only with it.
     */
    readonly commitNode?: CommitNodeFixture;
    /**
     * For a store that implements `commitRunEnd`: places a hold as for `commitNode`, so the suite's
     * run ends have something to release. The commitRunEnd cases run only with it.
     */
    readonly commitRunEnd?: CommitNodeFixture;
  },
): void {
  args.describe(`CheckpointStore conformance: ${args.name}`, () => {
    for (const c of checkpointStoreConformanceCases(args.commitNode, args.commitRunEnd)) {
      args.it(c.name, async () => c.run(await args.createStore()));
    }
  });
}

/** Places a hold for a run the conformance suite created; returns its reservation id. */
export type CommitNodeFixture = (args: {
  readonly runId: string;
  readonly amount: number;
}) => Promise<string>;

/**
 * The conformance cases, for runners that want to drive them directly; with `commitNode` and
 * `commitRunEnd`, the cases of those optional methods too.
 */
export function checkpointStoreConformanceCases(
  commitNode?: CommitNodeFixture,
  commitRunEnd?: CommitNodeFixture,
): readonly ConformanceCase[] {
  return [
    ...CASES,
    ...(commitNode === undefined ? [] : commitNodeCases(commitNode)),
    ...(commitRunEnd === undefined ? [] : commitRunEndCases(commitRunEnd)),
  ];
}

const newId = () => `conformance-${globalThis.crypto.randomUUID()}`;

/**
 * A running run's record with an empty graph, as the conformance cases store it: for a store
 * implementer's own tests (`extra` overrides fields).
 *
 * @example
 * ```ts
 * import { createMemoryCheckpointStore } from '@vidgenie/engine';
 * import { sampleRunRecord } from '@vidgenie/engine/testing';
 * const store = createMemoryCheckpointStore();
 * const { fence } = await store.createRun({ run: sampleRunRecord('run-1') });
 * console.log(fence); // 1
 * ```
 */
export function sampleRunRecord(runId: string, extra: Partial<RunRecord> = {}): RunRecord {
  return {
    version: CHECKPOINT_FORMAT_VERSION,
    runId,
    graph: { version: 1, nodes: [], edges: [] } as unknown as RunRecord['graph'],
    status: 'running',
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    lastSeq: 0,
    ...extra,
  };
}

function nodeRecord(nodeId: string, extra: Partial<NodeRecord> = {}): NodeRecord {
  return {
    nodeId,
    status: 'completed',
    attempt: 1,
    output: { value: nodeId },
    cost: 2,
    captured: true,
    ...extra,
  };
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`CheckpointStore conformance: ${message}`);
}

function same(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  check(a === e, `${what}: expected ${e}, got ${a}`);
}

async function rejectsWith(promise: Promise<unknown>, code: EngineErrorCode, what: string): Promise<void> {
  try {
    await promise;
  } catch (error) {
    check(error instanceof EngineError, `${what}: expected an EngineError, got ${String(error)}`);
    check(error.code === code, `${what}: expected code ${code}, got ${error.code}`);
    return;
  }
  throw new Error(`CheckpointStore conformance: ${what}: expected a rejection with ${code}`);
}

const byId = (nodes: readonly NodeRecord[]) => [...nodes].sort((a, b) => a.nodeId.localeCompare(b.nodeId));

const CASES: readonly ConformanceCase[] = [
  {
    name: 'createRun stores the run and its pre-completed nodes; loadRun reads them back',
    async run(store) {
      const runId = newId();
      const nodes = [nodeRecord('a'), nodeRecord('b', { reused: 'rerun', cost: 0 })];
      const { fence } = await store.createRun({ run: sampleRunRecord(runId), nodes });
      const snapshot = await store.loadRun({ runId });
      check(snapshot !== undefined, 'loadRun returned nothing for a created run');
      same(snapshot.run, sampleRunRecord(runId), 'run record');
      same(byId(snapshot.nodes), byId(nodes), 'node records');
      check(
        snapshot.fence === fence,
        `loadRun fence ${snapshot.fence} differs from createRun fence ${fence}`,
      );
    },
  },
  {
    name: 'createRun rejects an id that exists with RUN_EXISTS',
    async run(store) {
      const runId = newId();
      await store.createRun({ run: sampleRunRecord(runId) });
      await rejectsWith(store.createRun({ run: sampleRunRecord(runId) }), 'RUN_EXISTS', 'second createRun');
    },
  },
  {
    name: 'loadRun of an unknown id is undefined; claimRun of one rejects with RUN_NOT_FOUND',
    async run(store) {
      check(
        (await store.loadRun({ runId: newId() })) === undefined,
        'loadRun of an unknown id returned a run',
      );
      await rejectsWith(store.claimRun({ runId: newId() }), 'RUN_NOT_FOUND', 'claimRun of an unknown id');
    },
  },
  {
    name: 'claimRun increases the fence and returns the stored nodes',
    async run(store) {
      const runId = newId();
      const { fence } = await store.createRun({ run: sampleRunRecord(runId), nodes: [nodeRecord('a')] });
      const first = await store.claimRun({ runId });
      const second = await store.claimRun({ runId });
      check(first.fence > fence && second.fence > first.fence, 'fences did not strictly increase');
      same(first.nodes, [nodeRecord('a')], 'nodes returned by claimRun');
    },
  },
  {
    name: 'saveNode inserts and replaces by node id, leaving other nodes alone',
    async run(store) {
      const runId = newId();
      const { fence } = await store.createRun({ run: sampleRunRecord(runId) });
      await store.saveNode({
        runId,
        fence,
        node: nodeRecord('a', { status: 'running', state: { job: 'j1' } }),
        seq: 1,
      });
      await store.saveNode({ runId, fence, node: nodeRecord('b'), seq: 2 });
      await store.saveNode({ runId, fence, node: nodeRecord('a', { state: { job: 'j1' } }), seq: 3 });
      const snapshot = await store.loadRun({ runId });
      same(
        byId(snapshot?.nodes ?? []),
        [nodeRecord('a', { state: { job: 'j1' } }), nodeRecord('b')],
        'nodes',
      );
    },
  },
  {
    name: 'writes with a stale fence are rejected with STALE_FENCE and change nothing',
    async run(store) {
      const runId = newId();
      const { fence: old } = await store.createRun({ run: sampleRunRecord(runId) });
      const { fence } = await store.claimRun({ runId });
      await rejectsWith(
        store.saveNode({ runId, fence: old, node: nodeRecord('a'), seq: 1 }),
        'STALE_FENCE',
        'stale saveNode',
      );
      await rejectsWith(
        store.saveRun({ runId, fence: old, patch: { status: 'failed' } }),
        'STALE_FENCE',
        'stale saveRun',
      );
      const snapshot = await store.loadRun({ runId });
      same(snapshot?.nodes, [], 'nodes after a stale write');
      same(snapshot?.run.status, 'running', 'status after a stale write');
      await store.saveNode({ runId, fence, node: nodeRecord('a'), seq: 1 });
    },
  },
  {
    name: 'saveRun applies the patch and keeps the other fields',
    async run(store) {
      const runId = newId();
      const { fence } = await store.createRun({ run: sampleRunRecord(runId, { parentRunId: 'parent-1' }) });
      await store.saveRun({ runId, fence, patch: { reservation: { id: 'hold-1', amount: 35 } } });
      await store.saveRun({
        runId,
        fence,
        patch: {
          status: 'failed',
          released: 20,
          error: { name: 'EngineError', code: 'NODE_FAILED', message: 'x', retryable: true },
          failedNodeId: 'v',
        },
      });
      const run = (await store.loadRun({ runId }))?.run;
      same(
        [
          run?.status,
          run?.reservation,
          run?.released,
          run?.error?.code,
          run?.failedNodeId,
          run?.parentRunId,
          run?.graph,
        ],
        [
          'failed',
          { id: 'hold-1', amount: 35 },
          20,
          'NODE_FAILED',
          'v',
          'parent-1',
          sampleRunRecord(runId).graph,
        ],
        'run after patches',
      );
    },
  },
  {
    name: 'lastSeq keeps the highest sequence number written',
    async run(store) {
      const runId = newId();
      const { fence } = await store.createRun({ run: sampleRunRecord(runId) });
      await store.saveNode({ runId, fence, node: nodeRecord('a'), seq: 7 });
      await store.saveRun({ runId, fence, patch: { lastSeq: 3 } });
      same((await store.loadRun({ runId }))?.run.lastSeq, 7, 'lastSeq after a lower write');
      await store.saveRun({ runId, fence, patch: { lastSeq: 9 } });
      same((await store.loadRun({ runId }))?.run.lastSeq, 9, 'lastSeq after a higher write');
    },
  },
  {
    name: 'stored values are copies: mutating written or read objects changes nothing stored',
    async run(store) {
      const runId = newId();
      const { fence } = await store.createRun({ run: sampleRunRecord(runId) });
      const output = { list: [1, 2], nested: { text: 'é漢🎬' } };
      await store.saveNode({ runId, fence, node: nodeRecord('a', { output }), seq: 1 });
      output.list.push(3);
      const read = await store.loadRun({ runId });
      same(
        read?.nodes[0]?.output,
        { list: [1, 2], nested: { text: 'é漢🎬' } },
        'output after mutating the written value',
      );
      const readOutput = read?.nodes[0]?.output as { list: number[] } | undefined;
      readOutput?.list.push(4);
      same(
        (await store.loadRun({ runId }))?.nodes[0]?.output,
        { list: [1, 2], nested: { text: 'é漢🎬' } },
        'output after mutating a read value',
      );
    },
  },
  {
    name: 'concurrent claims get distinct fences and only the newest may write',
    async run(store) {
      const runId = newId();
      await store.createRun({ run: sampleRunRecord(runId) });
      const claims = await Promise.all([1, 2, 3, 4, 5].map(() => store.claimRun({ runId })));
      const fences = claims.map((c) => c.fence);
      check(new Set(fences).size === fences.length, `concurrent claims shared a fence: ${fences.join(', ')}`);
      const newest = Math.max(...fences);
      for (const fence of fences.filter((f) => f !== newest)) {
        await rejectsWith(
          store.saveNode({ runId, fence, node: nodeRecord('a'), seq: 1 }),
          'STALE_FENCE',
          `fence ${fence}`,
        );
      }
      await store.saveNode({ runId, fence: newest, node: nodeRecord('a'), seq: 1 });
    },
  },
  {
    name: 'runs are independent: claiming one does not fence another',
    async run(store) {
      const a = newId();
      const b = newId();
      await store.createRun({ run: sampleRunRecord(a) });
      const { fence } = await store.createRun({ run: sampleRunRecord(b) });
      await store.claimRun({ runId: a });
      await store.saveNode({ runId: b, fence, node: nodeRecord('x'), seq: 1 });
      same((await store.loadRun({ runId: b }))?.nodes.length, 1, 'nodes of the other run');
    },
  },
];

/** An optional method the suite was given a fixture for, bound to its store. */
function optionalMethod<K extends 'commitNode' | 'commitRunEnd'>(
  store: CheckpointStore,
  method: K,
): NonNullable<CheckpointStore[K]> {
  const found = store[method];
  check(found !== undefined, `the store has no ${method}, but the suite was given a fixture for it`);
  return found.bind(store) as NonNullable<CheckpointStore[K]>;
}

function commitNodeCases(reserve: CommitNodeFixture): readonly ConformanceCase[] {
  const commitOf = (store: CheckpointStore) => optionalMethod(store, 'commitNode');
  const capture = (runId: string, nodeId: string, reservationId: string, amount = 2) => ({
    runId,
    reservationId,
    nodeId,
    amount,
    idempotencyKey: `${runId}:${nodeId}`,
  });
  return [
    {
      name: 'commitNode saves the record as saveNode does, replacing a running one',
      async run(store) {
        const commit = commitOf(store);
        const runId = newId();
        const { fence } = await store.createRun({ run: sampleRunRecord(runId) });
        const reservationId = await reserve({ runId, amount: 4 });
        await store.saveNode({
          runId,
          fence,
          node: nodeRecord('a', { status: 'running', captured: false }),
          seq: 1,
        });
        await commit({
          runId,
          fence,
          node: nodeRecord('a'),
          seq: 2,
          capture: capture(runId, 'a', reservationId),
        });
        await commit({
          runId,
          fence,
          node: nodeRecord('b'),
          seq: 3,
          capture: capture(runId, 'b', reservationId),
        });
        const snapshot = await store.loadRun({ runId });
        same(byId(snapshot?.nodes ?? []), [nodeRecord('a'), nodeRecord('b')], 'nodes after commitNode');
      },
    },
    {
      name: 'commitNode with a stale fence rejects with STALE_FENCE and saves nothing',
      async run(store) {
        const commit = commitOf(store);
        const runId = newId();
        const { fence: old } = await store.createRun({ run: sampleRunRecord(runId) });
        const reservationId = await reserve({ runId, amount: 4 });
        const { fence } = await store.claimRun({ runId });
        await rejectsWith(
          commit({
            runId,
            fence: old,
            node: nodeRecord('a'),
            seq: 1,
            capture: capture(runId, 'a', reservationId),
          }),
          'STALE_FENCE',
          'stale commitNode',
        );
        same((await store.loadRun({ runId }))?.nodes, [], 'nodes after a stale commitNode');
        // The current writer's commit still goes through: the stale one charged nothing.
        await commit({
          runId,
          fence,
          node: nodeRecord('a'),
          seq: 1,
          capture: capture(runId, 'a', reservationId, 4),
        });
        same(
          (await store.loadRun({ runId }))?.nodes,
          [nodeRecord('a')],
          'nodes after the current commitNode',
        );
      },
    },
  ];
}

function commitRunEndCases(reserve: CommitNodeFixture): readonly ConformanceCase[] {
  const commitOf = (store: CheckpointStore) => optionalMethod(store, 'commitRunEnd');
  const end = (runId: string, reservationId: string, status: 'completed' | 'failed', lastSeq: number) => ({
    patch: { status, released: 3, releasePending: false, lastSeq },
    release: { runId, reservationId, amount: 3, idempotencyKey: `${runId}:release` },
  });
  return [
    {
      name: 'commitRunEnd saves the end as saveRun does and says so; a repeat changes nothing',
      async run(store) {
        const commit = commitOf(store);
        const runId = newId();
        const { fence } = await store.createRun({ run: sampleRunRecord(runId) });
        const reservationId = await reserve({ runId, amount: 3 });
        same(
          await commit({ runId, fence, ...end(runId, reservationId, 'completed', 7) }),
          true,
          'commitRunEnd',
        );
        const run = (await store.loadRun({ runId }))?.run;
        same(
          [run?.status, run?.released, run?.releasePending, run?.lastSeq],
          ['completed', 3, false, 7],
          'the run after commitRunEnd',
        );
        // The hold is released already: a second end cannot do both, so it does neither.
        same(await commit({ runId, fence, ...end(runId, reservationId, 'failed', 9) }), false, 'a repeat');
        same((await store.loadRun({ runId }))?.run.status, 'completed', 'the run after a repeat');
      },
    },
    {
      name: 'commitRunEnd with a stale fence saves nothing; the current writer still can',
      async run(store) {
        const commit = commitOf(store);
        const runId = newId();
        const { fence: old } = await store.createRun({ run: sampleRunRecord(runId) });
        const reservationId = await reserve({ runId, amount: 3 });
        const { fence } = await store.claimRun({ runId });
        const stale = await commit({ runId, fence: old, ...end(runId, reservationId, 'failed', 5) }).then(
          (done) => (done ? 'committed' : 'refused'),
          (error: unknown) =>
            error instanceof EngineError && error.code === 'STALE_FENCE' ? 'refused' : String(error),
        );
        same(stale, 'refused', 'a stale commitRunEnd');
        same((await store.loadRun({ runId }))?.run.status, 'running', 'the run after a stale commitRunEnd');
        same(
          await commit({ runId, fence, ...end(runId, reservationId, 'completed', 5) }),
          true,
          'the current one',
        );
        same((await store.loadRun({ runId }))?.run.status, 'completed', 'the run after the current one');
      },
    },
  ];
}

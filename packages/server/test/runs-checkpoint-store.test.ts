import { randomUUID } from 'node:crypto';
import {
  CHECKPOINT_FORMAT_VERSION,
  type CheckpointStore,
  EngineError,
  type NodeRecord,
  type RunRecord,
  StaleFenceError,
} from '@vidgenie/engine';
import { describeCheckpointStoreConformance } from '@vidgenie/engine/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../src/db/open-database.ts';
import { createSqlCheckpointStore } from '../src/runs/sql-checkpoint-store.ts';
import { countStatements } from './support/count-statements.ts';
import { describeEachDatabase } from './support/test-databases.ts';

const newRunId = () => `run-${randomUUID()}`;

function runRecord(runId: string, extra: Partial<RunRecord> = {}): RunRecord {
  return {
    version: CHECKPOINT_FORMAT_VERSION,
    runId,
    graph: {
      version: 1,
      nodes: [{ id: 'n', type: 'step', config: { zeta: 1, alpha: 'é漢🎬\u0000' } }],
      edges: [],
    } as unknown as RunRecord['graph'],
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

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describeEachDatabase('sql checkpoint store', ({ lane, db, database }) => {
  describeCheckpointStoreConformance({
    name: `sql (${lane})`,
    createStore: () => createSqlCheckpointStore({ db: db() }),
    describe,
    it,
  });
  describeCheckpointStoreConformance({
    name: `sql with grouped node saves (${lane})`,
    createStore: () => createSqlCheckpointStore({ db: db(), nodeSavesDb: db() }),
    describe,
    it,
  });

  const store = (): CheckpointStore => createSqlCheckpointStore({ db: db() });
  const row = (runId: string) =>
    db()
      .selectFrom('run_checkpoints')
      .select(['fence', 'status', 'last_seq', 'format_version'])
      .where('run_id', '=', runId)
      .executeTakeFirstOrThrow();

  it('reads records back as written, key order and text included', async () => {
    const runId = newRunId();
    const run = runRecord(runId);
    const output = { zeta: [3, 1], alpha: { 'clé é': 'é漢🎬\u0000\n"', b: null, a: 1.5 } };
    await store().createRun({ run, nodes: [nodeRecord('x', { output })] });
    const snapshot = await store().loadRun({ runId });
    expect(JSON.stringify(snapshot?.run)).toBe(JSON.stringify(run));
    expect(JSON.stringify(snapshot?.nodes)).toBe(JSON.stringify([nodeRecord('x', { output })]));
    const fence = snapshot?.fence ?? 0;
    await store().saveNode({ runId, fence, node: nodeRecord('y', { state: output }), seq: 1 });
    const nodes = (await store().loadRun({ runId }))?.nodes;
    expect(JSON.stringify(nodes?.[1])).toBe(JSON.stringify(nodeRecord('y', { state: output })));
  });

  it('a U+0000 in a run patch (which jsonb cannot hold) is saved as U+FFFD', async () => {
    const runId = newRunId();
    const { fence } = await store().createRun({ run: runRecord(runId) });
    const error = {
      name: 'EngineError',
      code: 'NODE_FAILED',
      message: 'bad\u0000byte',
      retryable: false,
    } as const;
    await store().saveRun({ runId, fence, patch: { status: 'failed', error, failedNodeId: 'n' } });
    expect((await store().loadRun({ runId }))?.run.error?.message).toBe('bad\uFFFDbyte');
  });

  it('keeps the queried columns equal to the records: status, fence, last_seq', async () => {
    const runId = newRunId();
    const s = store();
    const { fence: first } = await s.createRun({ run: runRecord(runId, { lastSeq: 4 }) });
    expect(await row(runId)).toEqual({
      fence: first,
      status: 'running',
      last_seq: 4,
      format_version: CHECKPOINT_FORMAT_VERSION,
    });
    const { fence } = await s.claimRun({ runId });
    await s.saveNode({
      runId,
      fence,
      node: nodeRecord('a', { status: 'running', state: { job: 1 } }),
      seq: 9,
    });
    await s.saveRun({ runId, fence, patch: { status: 'cancelled', cancelReason: 'stop', lastSeq: 5 } });
    expect(await row(runId)).toEqual({
      fence,
      status: 'cancelled',
      last_seq: 9,
      format_version: CHECKPOINT_FORMAT_VERSION,
    });
    const nodes = await db()
      .selectFrom('node_checkpoints')
      .select(['node_id', 'status', 'seq'])
      .where('run_id', '=', runId)
      .execute();
    expect(nodes).toEqual([{ node_id: 'a', status: 'running', seq: 9 }]);
    const run = (await s.loadRun({ runId }))?.run;
    expect(run).toMatchObject({
      status: 'cancelled',
      cancelReason: 'stop',
      lastSeq: 9,
      createdAt: 1_700_000_000_000,
    });
    expect(run?.updatedAt).toBeGreaterThan(1_700_000_000_000);
  });

  it('createRun is all or nothing: a bad node record leaves no run behind', async () => {
    const runId = newRunId();
    const bad = { ...nodeRecord('b'), status: 'exploded' } as unknown as NodeRecord;
    await expect(store().createRun({ run: runRecord(runId), nodes: [nodeRecord('a'), bad] })).rejects.toThrow(
      /node_checkpoints/,
    );
    expect(await store().loadRun({ runId })).toBeUndefined();
  });

  it('a taken id inside a transaction rejects with RUN_EXISTS and leaves the transaction usable', async () => {
    const runId = newRunId();
    await store().createRun({ run: runRecord(runId) });
    const other = newRunId();
    await db()
      .transaction()
      .execute(async (trx) => {
        const inTrx = createSqlCheckpointStore({ db: trx });
        const error = await rejection(inTrx.createRun({ run: runRecord(runId) }));
        expect(error).toBeInstanceOf(EngineError);
        expect((error as EngineError).code).toBe('RUN_EXISTS');
        await inTrx.createRun({ run: runRecord(other) });
      });
    expect((await store().loadRun({ runId: other }))?.run.runId).toBe(other);
  });

  it('writes for an unknown run reject with RUN_NOT_FOUND', async () => {
    const runId = newRunId();
    // One at a time: a second write started early could reject before anything awaits it.
    for (const write of [
      () => store().saveNode({ runId, fence: 1, node: nodeRecord('a'), seq: 1 }),
      () => store().saveRun({ runId, fence: 1, patch: { status: 'failed' } }),
    ]) {
      expect(await rejection(write())).toMatchObject({ code: 'RUN_NOT_FOUND' });
    }
  });

  it('grouped node saves of many runs share one statement; a stale or unknown one is refused alone', async () => {
    const grouped = createSqlCheckpointStore({ db: db(), nodeSavesDb: db() });
    const runIds = Array.from({ length: 6 }, newRunId);
    const fences = await Promise.all(runIds.map((runId) => grouped.createRun({ run: runRecord(runId) })));
    const stale = runIds[2] as string;
    await grouped.claimRun({ runId: stale }); // its fence moves on: the save below is a zombie's
    const unknown = newRunId();
    const saves = [
      ...runIds.map((runId, i) =>
        grouped.saveNode({
          runId,
          fence: fences[i]?.fence ?? 0,
          node: nodeRecord('n', { output: { i } }),
          seq: 1,
        }),
      ),
      grouped.saveNode({ runId: unknown, fence: 1, node: nodeRecord('n'), seq: 1 }),
    ];
    const outcomes = await Promise.all(
      saves.map((save) =>
        save.then(
          () => 'saved',
          (error: unknown) => error,
        ),
      ),
    );
    expect(outcomes.slice(0, 6).filter((outcome) => outcome === 'saved')).toHaveLength(5);
    expect(outcomes[2]).toBeInstanceOf(StaleFenceError);
    expect(outcomes[6]).toMatchObject({ code: 'RUN_NOT_FOUND' });
    const { rows } = await sql<{ run_id: string; tx: string; output: unknown }>`
      select run_id, xmin::text as tx, (record::jsonb)->'output' as output from node_checkpoints
       where run_id = any(${runIds})`.execute(db());
    expect(rows.map((r) => r.run_id).sort()).toEqual(runIds.filter((runId) => runId !== stale).sort());
    for (const r of rows) expect(r.output).toEqual({ i: runIds.indexOf(r.run_id) });
    // The first save went alone; the four others made meanwhile went together, in one transaction.
    expect(new Set(rows.map((r) => r.tx)).size).toBeLessThanOrEqual(2);
    for (const runId of runIds.filter((id) => id !== stale)) expect((await row(runId)).last_seq).toBe(1);
  });

  it('grouped run creations and saves share statements; a repeated id and a stale save are refused alone', async () => {
    const { db: counted, count: statements, reset } = countStatements(db());
    const grouped = createSqlCheckpointStore({ db: db(), nodeSavesDb: counted });
    const runIds = Array.from({ length: 6 }, newRunId);
    const restored = nodeRecord('done', { status: 'completed', output: { kept: true } });
    const created = await Promise.all(
      [...runIds, runIds[0] as string].map((runId, i) =>
        grouped.createRun({ run: runRecord(runId), ...(i === 1 ? { nodes: [restored] } : {}) }).then(
          (answer) => answer.fence,
          (error: unknown) => error,
        ),
      ),
    );
    expect(created.slice(0, 6)).toEqual([1, 1, 1, 1, 1, 1]);
    // The same id twice in one burst: created once; the repeat is told the run exists.
    expect(created[6]).toMatchObject({ code: 'RUN_EXISTS' });
    expect(statements()).toBeLessThanOrEqual(4);
    expect((await grouped.loadRun({ runId: runIds[1] as string }))?.nodes).toEqual([restored]);

    reset();
    const stale = runIds[3] as string;
    await grouped.claimRun({ runId: stale }); // its fence moves on: the save below is a zombie's
    const saves = await Promise.all(
      runIds.map((runId, i) =>
        grouped.saveRun({ runId, fence: 1, patch: { status: 'completed', lastSeq: 10 + i } }).then(
          () => 'saved',
          (error: unknown) => error,
        ),
      ),
    );
    expect(saves.filter((outcome) => outcome === 'saved')).toHaveLength(5);
    expect(saves[3]).toBeInstanceOf(StaleFenceError);
    // Two went at once; the others together; the stale one explained itself with a read.
    expect(statements()).toBeLessThanOrEqual(4);
    for (const [i, runId] of runIds.entries()) {
      const loaded = await grouped.loadRun({ runId });
      if (runId === stale) expect(loaded?.run.status).toBe('running');
      else expect(loaded?.run).toMatchObject({ status: 'completed', lastSeq: 10 + i });
    }
  });

  it('a fence from the future is refused too: only the current fence writes', async () => {
    const runId = newRunId();
    const { fence } = await store().createRun({ run: runRecord(runId) });
    const error = await rejection(
      store().saveNode({ runId, fence: fence + 1, node: nodeRecord('a'), seq: 1 }),
    );
    expect(error).toBeInstanceOf(StaleFenceError);
    expect(error).toMatchObject({ fence: fence + 1, current: fence });
  });

  it('a run in an unknown checkpoint format is neither read nor claimed (CHECKPOINT_VERSION)', async () => {
    const runId = newRunId();
    const { fence } = await store().createRun({ run: runRecord(runId) });
    const next = CHECKPOINT_FORMAT_VERSION + 1;
    await db()
      .updateTable('run_checkpoints')
      .set({ format_version: next })
      .where('run_id', '=', runId)
      .execute();
    expect(await rejection(store().loadRun({ runId }))).toMatchObject({ code: 'CHECKPOINT_VERSION' });
    expect(await rejection(store().claimRun({ runId }))).toMatchObject({ code: 'CHECKPOINT_VERSION' });
    expect((await row(runId)).fence).toBe(fence);
  });

  it('deleting a run deletes its node checkpoints', async () => {
    const runId = newRunId();
    await store().createRun({ run: runRecord(runId), nodes: [nodeRecord('a'), nodeRecord('b')] });
    await db().deleteFrom('run_checkpoints').where('run_id', '=', runId).execute();
    const left = await db()
      .selectFrom('node_checkpoints')
      .select('node_id')
      .where('run_id', '=', runId)
      .execute();
    expect(left).toEqual([]);
  });

  if (lane !== 'postgres') return;

  describe('two workers on two connection pools', () => {
    let other: Database;
    beforeAll(async () => {
      const url = database().url;
      if (url === undefined) throw new Error('the PostgreSQL lane has a URL');
      other = await openDatabase({ kind: 'postgres', url, maxConnections: 10 });
    });
    afterAll(async () => {
      await other.close();
    });

    for (const grouped of [false, true])
      it(`a zombie writer's saveNode and saveRun are rejected and the new owner's data is intact${grouped ? ' (grouped node saves)' : ''}`, async () => {
        const runId = newRunId();
        const a = createSqlCheckpointStore({ db: db(), ...(grouped ? { nodeSavesDb: db() } : {}) });
        const b = createSqlCheckpointStore({ db: other.db });
        await a.createRun({ run: runRecord(runId) });
        const claimA = await a.claimRun({ runId });
        await a.saveNode({
          runId,
          fence: claimA.fence,
          node: nodeRecord('a', { output: { by: 'A' } }),
          seq: 1,
        });

        // A freezes; its lease expires; B takes the run over and works on it.
        const claimB = await b.claimRun({ runId });
        expect(claimB.fence).toBeGreaterThan(claimA.fence);
        expect(claimB.nodes.map((n) => n.nodeId)).toEqual(['a']);
        await b.saveNode({
          runId,
          fence: claimB.fence,
          node: nodeRecord('b', { output: { by: 'B' } }),
          seq: 2,
        });
        await b.saveRun({
          runId,
          fence: claimB.fence,
          patch: { reservation: { id: 'hold-B', amount: 5 }, lastSeq: 2 },
        });

        // A wakes up and writes.
        const late = [
          a.saveNode({ runId, fence: claimA.fence, node: nodeRecord('b', { output: { by: 'A' } }), seq: 3 }),
          a.saveNode({ runId, fence: claimA.fence, node: nodeRecord('c', { output: { by: 'A' } }), seq: 4 }),
          a.saveRun({ runId, fence: claimA.fence, patch: { status: 'failed', lastSeq: 5 } }),
        ];
        // Handlers attach to all three at once: awaiting them one by one would leave the later
        // rejections unhandled for a moment.
        for (const error of await Promise.all(late.map(rejection))) {
          expect(error).toBeInstanceOf(StaleFenceError);
          expect(error).toMatchObject({ code: 'STALE_FENCE', fence: claimA.fence, current: claimB.fence });
        }

        const stored = await b.loadRun({ runId });
        expect(stored?.fence).toBe(claimB.fence);
        expect(stored?.run).toMatchObject({
          status: 'running',
          reservation: { id: 'hold-B', amount: 5 },
          lastSeq: 2,
        });
        expect(stored?.nodes.map((n) => [n.nodeId, n.output])).toEqual([
          ['a', { by: 'A' }],
          ['b', { by: 'B' }],
        ]);
      });

    it('concurrent claims from both pools get distinct, consecutive fences', async () => {
      const runId = newRunId();
      const stores = [createSqlCheckpointStore({ db: db() }), createSqlCheckpointStore({ db: other.db })];
      const { fence } = await stores[0]!.createRun({ run: runRecord(runId) });
      const claims = await Promise.all(
        Array.from({ length: 20 }, (_, i) => stores[i % 2]!.claimRun({ runId })),
      );
      const fences = claims.map((c) => c.fence).sort((x, y) => x - y);
      expect(fences).toEqual(Array.from({ length: 20 }, (_, i) => fence + 1 + i));
      expect((await row(runId)).fence).toBe(fence + 20);
    });

    for (const grouped of [false, true])
      it(`a claim racing the old owner's writes sees exactly the writes that were accepted${grouped ? ' (grouped node saves)' : ''}`, async () => {
        for (let round = 0; round < 5; round++) {
          const runId = newRunId();
          const a = createSqlCheckpointStore({ db: db(), ...(grouped ? { nodeSavesDb: db() } : {}) });
          const b = createSqlCheckpointStore({ db: other.db });
          const { fence } = await a.createRun({ run: runRecord(runId) });
          const writes = Array.from({ length: 20 }, (_, i) =>
            a.saveNode({ runId, fence, node: nodeRecord(`n${String(i).padStart(2, '0')}`), seq: i + 1 }).then(
              () => true,
              (error: unknown) => {
                if (!(error instanceof StaleFenceError)) throw error;
                return false;
              },
            ),
          );
          const claim = b.claimRun({ runId });
          const accepted = await Promise.all(writes);
          const snapshot = await claim;
          const acceptedIds = accepted.flatMap((ok, i) => (ok ? [`n${String(i).padStart(2, '0')}`] : []));
          // Every accepted write committed before the claim took the row, so the claim returned it;
          // every refused one wrote nothing.
          expect(snapshot.nodes.map((n) => n.nodeId)).toEqual(acceptedIds);
          expect((await b.loadRun({ runId }))?.nodes.map((n) => n.nodeId)).toEqual(acceptedIds);
        }
      });
  });
});

import { randomUUID } from 'node:crypto';
import { type CheckpointStore, type NodeRecord, NonRetryableError } from '@vidgenie/engine';
import { describeCheckpointStoreConformance, sampleRunRecord } from '@vidgenie/engine/testing';
import { sql } from 'kysely';
import { beforeEach, describe, expect, it } from 'vitest';
import { type CreditLedger, createCreditLedger } from '../src/ledger/credit-ledger.ts';
import { createSqlCheckpointStore } from '../src/runs/sql-checkpoint-store.ts';
import { userWithAccount } from './support/ledger-fixtures.ts';

import { describeEachDatabase } from './support/test-databases.ts';

const HOUR = 3_600_000;

const completed = (nodeId: string, cost: number): NodeRecord => ({
  nodeId,
  status: 'completed',
  attempt: 1,
  output: { value: nodeId },
  cost,
  captured: true,
});

describeEachDatabase(
  'sql checkpoint store: commitNode (checkpoint and capture in one write)',
  ({ lane, db }) => {
    let ledger: CreditLedger;
    beforeEach(() => {
      ledger = createCreditLedger({ db: db() });
    });
    const store = (): CheckpointStore => createSqlCheckpointStore({ db: db(), captureOnCommit: true });
    /** A hold of `amount` for the run on a fresh account of 100 credits: the suite's reservation. */
    const holdFor = async ({ runId, amount }: { runId: string; amount: number }) => {
      const ledger = createCreditLedger({ db: db() });
      const userId = await userWithAccount(db(), ledger, { balance: 100 });
      return (await ledger.reserve({ userId, runId, amount, expiresInMs: HOUR })).id;
    };

    describeCheckpointStoreConformance({
      name: `sql with captureOnCommit (${lane})`,
      createStore: store,
      commitNode: holdFor,
      commitRunEnd: holdFor,
      describe,
      it,
    });

    describeCheckpointStoreConformance({
      name: `sql with captureOnCommit and grouped node saves (${lane})`,
      createStore: () => createSqlCheckpointStore({ db: db(), captureOnCommit: true, nodeSavesDb: db() }),
      commitNode: holdFor,
      describe,
      it,
    });

    /** A run with a hold of `amount` on a fresh account of 100 credits. */
    const runWithHold = async (amount: number) => {
      const runId = `run-${randomUUID()}`;
      const s = store();
      const { fence } = await s.createRun({ run: sampleRunRecord(runId) });
      const userId = await userWithAccount(db(), ledger, { balance: 100 });
      const hold = await ledger.reserve({ userId, runId, amount, expiresInMs: HOUR });
      const commit = (nodeId: string, cost: number, at: { fence?: number } = {}) =>
        (s.commitNode as NonNullable<CheckpointStore['commitNode']>)({
          runId,
          fence: at.fence ?? fence,
          node: completed(nodeId, cost),
          seq: 1,
          capture: {
            runId,
            reservationId: hold.id,
            nodeId,
            amount: cost,
            idempotencyKey: `${runId}:${nodeId}`,
          },
        });
      const captures = () =>
        db()
          .selectFrom('credit_captures')
          .select(['node_id', 'amount'])
          .where('hold_id', '=', hold.id)
          .orderBy('node_id')
          .execute();
      return { runId, s, fence, userId, hold, commit, captures };
    };

    it('is only offered with captureOnCommit', () => {
      expect(createSqlCheckpointStore({ db: db() }).commitNode).toBeUndefined();
      expect(store().commitNode).toBeTypeOf('function');
    });

    it('charges the node from the hold and saves its record, as capture and saveNode would', async () => {
      const t = await runWithHold(10);
      await t.commit('image', 3);
      await t.commit('video', 5);

      expect(await t.captures()).toEqual([
        { node_id: 'image', amount: 3 },
        { node_id: 'video', amount: 5 },
      ]);
      expect(await ledger.balance(t.userId)).toMatchObject({ balance: 92, held: 2 });
      const entries = await db()
        .selectFrom('ledger_entries')
        .select(['kind', 'balance_delta', 'node_id'])
        .where('hold_id', '=', t.hold.id)
        .where('kind', '=', 'capture')
        .orderBy('node_id')
        .execute();
      expect(entries).toEqual([
        { kind: 'capture', balance_delta: -3, node_id: 'image' },
        { kind: 'capture', balance_delta: -5, node_id: 'video' },
      ]);
      const nodes = (await t.s.loadRun({ runId: t.runId }))?.nodes;
      expect(nodes).toEqual([completed('image', 3), completed('video', 5)]);
      expect(await ledger.reconcile({ userIds: [t.userId] })).toMatchObject({ drift: [], holdDrift: [] });
    });

    it('a repeated commit (a resumed run) charges nothing more and saves the record', async () => {
      const t = await runWithHold(10);
      await t.commit('image', 3);
      await t.s.saveNode({
        runId: t.runId,
        fence: t.fence,
        node: { ...completed('image', 3), captured: false },
        seq: 2,
      });
      await t.commit('image', 3);

      expect(await t.captures()).toEqual([{ node_id: 'image', amount: 3 }]);
      expect(await ledger.balance(t.userId)).toMatchObject({ balance: 97, held: 7 });
      expect((await t.s.loadRun({ runId: t.runId }))?.nodes).toEqual([completed('image', 3)]);
    });

    it('a stale writer charges nothing', async () => {
      const t = await runWithHold(10);
      await t.s.claimRun({ runId: t.runId });
      await expect(t.commit('image', 3)).rejects.toMatchObject({ code: 'STALE_FENCE' });
      expect(await t.captures()).toEqual([]);
      expect(await ledger.balance(t.userId)).toMatchObject({ balance: 100, held: 10 });
    });

    it('a released hold stops the run: nothing charged, the record kept uncaptured', async () => {
      const t = await runWithHold(10);
      await ledger.release({ holdId: t.hold.id });
      const error = await t.commit('image', 3).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NonRetryableError);
      expect((error as Error).message).toBe(
        `The credit hold of run ${t.runId} was released before node image could be charged; the run stops.`,
      );
      expect(await t.captures()).toEqual([]);
      expect(await ledger.balance(t.userId)).toMatchObject({ balance: 100, held: 0 });
      expect((await t.s.loadRun({ runId: t.runId }))?.nodes).toEqual([
        { ...completed('image', 3), captured: false },
      ]);
    });

    it('more than the hold has left is refused (409) and charges nothing', async () => {
      const t = await runWithHold(4);
      await t.commit('image', 3);
      await expect(t.commit('video', 5)).rejects.toMatchObject({ code: 'CONFLICT' });
      expect(await t.captures()).toEqual([{ node_id: 'image', amount: 3 }]);
      expect(await ledger.balance(t.userId)).toMatchObject({ balance: 97, held: 1 });
    });

    it('grouped commits of many runs share one statement: charges of one user add up, entries chain', async () => {
      const grouped = createSqlCheckpointStore({ db: db(), captureOnCommit: true, nodeSavesDb: db() });
      const commitNode = grouped.commitNode as NonNullable<CheckpointStore['commitNode']>;
      const alice = await userWithAccount(db(), ledger, { balance: 100 });
      const bob = await userWithAccount(db(), ledger, { balance: 100 });
      const startRun = async (userId: string, amount: number) => {
        const runId = `run-${randomUUID()}`;
        const { fence } = await grouped.createRun({ run: sampleRunRecord(runId) });
        const hold = await ledger.reserve({ userId, runId, amount, expiresInMs: HOUR });
        return { runId, fence, hold };
      };
      // Alice has three runs, Bob one; Bob's second run's hold is too small for its node.
      const runs = [
        await startRun(alice, 10),
        await startRun(alice, 10),
        await startRun(alice, 10),
        await startRun(bob, 10),
        await startRun(bob, 2),
      ];
      const plain = await startRun(bob, 1);
      const stale = await startRun(alice, 10);
      await grouped.claimRun({ runId: stale.runId }); // its writer's fence is now a zombie's
      const commit = (run: (typeof runs)[number], nodeId: string, cost: number) =>
        commitNode({
          runId: run.runId,
          fence: run.fence,
          node: completed(nodeId, cost),
          seq: 1,
          capture: {
            runId: run.runId,
            reservationId: run.hold.id,
            nodeId,
            amount: cost,
            idempotencyKey: `${run.runId}:${nodeId}`,
          },
        }).then(
          () => 'committed',
          (error: unknown) => (error as { code?: string }).code,
        );
      const outcomes = await Promise.all([
        ...runs.map((run, i) => commit(run, 'image', i + 1)),
        grouped
          .saveNode({ runId: plain.runId, fence: plain.fence, node: completed('prompt', 0), seq: 1 })
          .then(() => 'committed'),
        commit(stale, 'image', 4),
      ]);
      expect(outcomes).toEqual([
        'committed',
        'committed',
        'committed',
        'committed',
        'CONFLICT',
        'committed',
        'STALE_FENCE',
      ]);

      // Alice paid 1 + 2 + 3, Bob 4; nothing for the refused ones.
      expect(await ledger.balance(alice)).toMatchObject({ balance: 94, held: 34 });
      expect(await ledger.balance(bob)).toMatchObject({ balance: 96, held: 9 });
      expect(await ledger.reconcile({ userIds: [alice, bob] })).toMatchObject({ drift: [], holdDrift: [] });
      // Each capture entry carries the balance right after it, in the order written.
      for (const userId of [alice, bob]) {
        const entries = await db()
          .selectFrom('ledger_entries')
          .select(['balance_delta', 'held_delta', 'balance_after', 'held_after'])
          .where('user_id', '=', userId)
          .orderBy('seq')
          .execute();
        for (let i = 1; i < entries.length; i++) {
          const [before, entry] = [entries[i - 1], entries[i]];
          expect(entry?.balance_after).toBe((before?.balance_after ?? 0) + (entry?.balance_delta ?? 0));
          expect(entry?.held_after).toBe((before?.held_after ?? 0) + (entry?.held_delta ?? 0));
        }
      }
      const saved = await sql<{ run_id: string; tx: string; captured: boolean }>`
        select run_id, xmin::text as tx, (record::jsonb->>'captured')::boolean as captured
          from node_checkpoints
         where run_id = any(${[...runs, plain, stale].map((run) => run.runId)})`.execute(db());
      const byRun = new Map(saved.rows.map((row) => [row.run_id, row]));
      for (const run of runs.slice(0, 4)) expect(byRun.get(run.runId)?.captured).toBe(true);
      // The refused charge kept its node uncaptured; the zombie wrote nothing.
      expect(byRun.get(runs[4]?.runId ?? '')?.captured).toBe(false);
      expect(byRun.has(stale.runId)).toBe(false);
      // The first commit went alone; the others made meanwhile went together.
      const transactions = new Set([...runs.slice(0, 4), plain].map((run) => byRun.get(run.runId)?.tx));
      expect(transactions.size).toBeLessThanOrEqual(2);
    });
  },
);

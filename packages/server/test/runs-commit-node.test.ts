import { randomUUID } from 'node:crypto';
import { type CheckpointStore, type NodeRecord, NonRetryableError } from '@vidgenie/engine';
import { describeCheckpointStoreConformance, sampleRunRecord } from '@vidgenie/engine/testing';
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

    describeCheckpointStoreConformance({
      name: `sql with captureOnCommit (${lane})`,
      createStore: store,
      commitNode: async ({ runId, amount }) => {
        const ledger = createCreditLedger({ db: db() });
        const userId = await userWithAccount(db(), ledger, { balance: 100 });
        return (await ledger.reserve({ userId, runId, amount, expiresInMs: HOUR })).id;
      },
      commitRunEnd: async ({ runId, amount }) => {
        const ledger = createCreditLedger({ db: db() });
        const userId = await userWithAccount(db(), ledger, { balance: 100 });
        return (await ledger.reserve({ userId, runId, amount, expiresInMs: HOUR })).id;
      },
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
  },
);

import { randomUUID } from 'node:crypto';
import type { CheckpointStore } from '@vidgenie/engine';
import { sampleRunRecord } from '@vidgenie/engine/testing';
import { beforeEach, expect, it } from 'vitest';
import { type CreditLedger, createCreditLedger } from '../src/ledger/credit-ledger.ts';
import { createSqlCheckpointStore } from '../src/runs/sql-checkpoint-store.ts';
import { userWithAccount } from './support/ledger-fixtures.ts';

import { describeEachDatabase } from './support/test-databases.ts';

const HOUR = 3_600_000;

describeEachDatabase(
  'sql checkpoint store: commitRunEnd (the end and the release in one write)',
  ({ db }) => {
    let ledger: CreditLedger;
    beforeEach(() => {
      ledger = createCreditLedger({ db: db() });
    });
    const store = (): CheckpointStore => createSqlCheckpointStore({ db: db(), captureOnCommit: true });

    /** A run with a hold of 10 on a fresh account of 100 credits, 4 of them captured. */
    const runWithHold = async () => {
      const runId = `run-${randomUUID()}`;
      const s = store();
      const { fence } = await s.createRun({ run: sampleRunRecord(runId) });
      const userId = await userWithAccount(db(), ledger, { balance: 100 });
      const hold = await ledger.reserve({ userId, runId, amount: 10, expiresInMs: HOUR });
      await ledger.capture({ holdId: hold.id, nodeId: 'image', amount: 4 });
      const end = (at: { fence?: number; status?: 'completed' | 'failed' } = {}) =>
        (s.commitRunEnd as NonNullable<CheckpointStore['commitRunEnd']>)({
          runId,
          fence: at.fence ?? fence,
          patch: { status: at.status ?? 'completed', released: 6, releasePending: false, lastSeq: 9 },
          release: { runId, reservationId: hold.id, amount: 6, idempotencyKey: `${runId}:release` },
        });
      const releases = () =>
        db()
          .selectFrom('ledger_entries')
          .select(['kind', 'held_delta', 'reason'])
          .where('hold_id', '=', hold.id)
          .where('kind', '=', 'release')
          .execute();
      return { runId, s, fence, userId, hold, end, releases };
    };

    it('is only offered with captureOnCommit', () => {
      expect(createSqlCheckpointStore({ db: db() }).commitRunEnd).toBeUndefined();
      expect(store().commitRunEnd).toBeTypeOf('function');
    });

    it('saves the end and returns the rest of the hold, as saveRun and release would', async () => {
      const t = await runWithHold();
      expect(await t.end()).toBe(true);
      expect((await t.s.loadRun({ runId: t.runId }))?.run).toMatchObject({
        status: 'completed',
        released: 6,
        releasePending: false,
        lastSeq: 9,
      });
      expect(await ledger.balance(t.userId)).toMatchObject({ balance: 96, held: 0 });
      expect(await t.releases()).toEqual([
        { kind: 'release', held_delta: -6, reason: 'Run ended: unused credits returned' },
      ]);
      const hold = await db()
        .selectFrom('credit_holds')
        .select(['state', 'returned'])
        .where('id', '=', t.hold.id)
        .executeTakeFirstOrThrow();
      expect(hold).toEqual({ state: 'released', returned: 6 });
      expect(await ledger.reconcile({ userIds: [t.userId] })).toMatchObject({ drift: [], holdDrift: [] });
    });

    it('changes nothing when it cannot do both: a released hold, a stale writer', async () => {
      const released = await runWithHold();
      await ledger.release({ holdId: released.hold.id });
      expect(await released.end()).toBe(false);
      expect((await released.s.loadRun({ runId: released.runId }))?.run.status).toBe('running');
      expect(await released.releases()).toHaveLength(1); // the release made outside, only

      const taken = await runWithHold();
      await taken.s.claimRun({ runId: taken.runId });
      expect(await taken.end({ status: 'failed' })).toBe(false);
      expect((await taken.s.loadRun({ runId: taken.runId }))?.run.status).toBe('running');
      expect(await taken.releases()).toEqual([]);
      expect(await ledger.balance(taken.userId)).toMatchObject({ balance: 96, held: 6 });
    });

    it('releases once when two ends race', async () => {
      const t = await runWithHold();
      const results = await Promise.all([t.end(), t.end()]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await t.releases()).toHaveLength(1);
      expect(await ledger.balance(t.userId)).toMatchObject({ balance: 96, held: 0 });
    });
  },
);

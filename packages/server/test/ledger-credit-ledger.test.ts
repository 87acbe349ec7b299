import { sql } from 'kysely';
import { beforeEach, describe, expect, it } from 'vitest';
import { type CreditLedger, createCreditLedger } from '../src/ledger/credit-ledger.ts';
import {
  entrySums,
  expectApiError,
  insertUser,
  type TestClock,
  testClock,
  uniqueId,
  userWithAccount,
} from './support/ledger-fixtures.ts';
import { describeEachDatabase } from './support/test-databases.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describeEachDatabase('credit ledger', ({ db }) => {
  let clock: TestClock;
  let ledger: CreditLedger;
  beforeEach(() => {
    clock = testClock();
    ledger = createCreditLedger({ db: db(), now: clock.now });
  });
  const reserve = (userId: string, amount: number, options: { runId?: string; ttl?: number } = {}) =>
    ledger.reserve({
      userId,
      runId: options.runId ?? uniqueId('run'),
      amount,
      expiresInMs: options.ttl ?? HOUR,
    });

  describe('accounts', () => {
    it("opens an account inside the caller's transaction with the plan's first allowance as a renewal entry", async () => {
      const userId = await db()
        .transaction()
        .execute(async (trx) => {
          const id = await insertUser(trx);
          const account = await ledger.openAccount(trx, { userId: id, plan: 'free' });
          expect(account).toMatchObject({
            userId: id,
            plan: 'free',
            balance: 100,
            held: 0,
            unlimited: false,
          });
          expect(account.renewsAt).toEqual(new Date('2030-02-15T12:00:00.000Z'));
          return id;
        });
      const history = await ledger.history(userId);
      expect(history.entries.map((e) => [e.kind, e.amount, e.reason])).toEqual([
        ['renewal', 100, 'Free plan: 100 credits for the month'],
      ]);
      expect(await ledger.balance(userId)).toMatchObject({ plan: 'free', balance: 100, available: 100 });
    });

    it("rolls back with the caller's transaction", async () => {
      const userId = uniqueId('usr');
      await expect(
        db()
          .transaction()
          .execute(async (trx) => {
            await trx
              .insertInto('users')
              .values({ id: userId, email: `${userId.toLowerCase()}@example.com`, password_hash: 'x' })
              .execute();
            await ledger.openAccount(trx, { userId, plan: 'pro' });
            throw new Error('sign-up failed later');
          }),
      ).rejects.toThrow('sign-up failed later');
      await expectApiError(ledger.balance(userId), 'NOT_FOUND');
      expect(await entrySums(db(), userId)).toEqual({ balance: 0, held: 0, kinds: {} });
    });

    it('opening twice changes nothing', async () => {
      const userId = await userWithAccount(db(), ledger, { plan: 'starter' });
      const again = await ledger.openAccount(db(), { userId, plan: 'pro' });
      expect(again).toMatchObject({ plan: 'starter', balance: 500 });
      expect((await entrySums(db(), userId)).kinds).toEqual({ renewal: 1 });
    });

    it('an enterprise account is unlimited: available is null and reserves never fail for lack of credits', async () => {
      const userId = await userWithAccount(db(), ledger, { plan: 'enterprise' });
      expect(await ledger.balance(userId)).toMatchObject({ balance: 0, unlimited: true, available: null });
      const hold = await reserve(userId, 5000);
      await ledger.capture({ holdId: hold.id, nodeId: 'video', amount: 4000 });
      await ledger.release({ holdId: hold.id });
      expect(await ledger.balance(userId)).toMatchObject({ balance: -4000, held: 0, usedToday: 4000 });
    });
  });

  describe('grants', () => {
    it('adds credits with the admin as actor, at most once per idempotency key', async () => {
      const userId = await userWithAccount(db(), ledger);
      const admin = await insertUser(db(), { role: 'admin' });
      const args = {
        userId,
        amount: 50,
        reason: 'Support: sorry',
        actorUserId: admin,
        idempotencyKey: 'ticket-1',
      };
      const first = await ledger.grant(args);
      expect(first).toMatchObject({ balance: 150, held: 0, replayed: false });
      const again = await ledger.grant(args);
      expect(again).toEqual({ ...first, replayed: true });
      await expectApiError(ledger.grant({ ...args, amount: 60 }), 'IDEMPOTENCY_CONFLICT');
      const [entry] = (await ledger.history(userId, { limit: 1 })).entries;
      expect(entry).toMatchObject({ kind: 'grant', amount: 50, reason: 'Support: sorry', balanceAfter: 150 });
      const row = await db()
        .selectFrom('ledger_entries')
        .select('actor_user_id')
        .where('id', '=', first.entryId)
        .executeTakeFirstOrThrow();
      expect(row.actor_user_id).toBe(admin);
    });

    it('the same key for another user is another grant; without a key every call grants', async () => {
      const a = await userWithAccount(db(), ledger);
      const b = await userWithAccount(db(), ledger);
      await ledger.grant({ userId: a, amount: 5, reason: 'x', idempotencyKey: 'same' });
      expect(await ledger.grant({ userId: b, amount: 5, reason: 'x', idempotencyKey: 'same' })).toMatchObject(
        {
          replayed: false,
          balance: 105,
        },
      );
      await ledger.grant({ userId: a, amount: 1, reason: 'x' });
      expect((await ledger.grant({ userId: a, amount: 1, reason: 'x' })).balance).toBe(107);
    });

    it('accepts purchases as an entry kind', async () => {
      const userId = await userWithAccount(db(), ledger);
      await ledger.grant({
        userId,
        amount: 1000,
        reason: 'Pack of 1000',
        kind: 'purchase',
        idempotencyKey: 'pi_1',
      });
      expect((await ledger.history(userId, { limit: 1 })).entries[0]).toMatchObject({
        kind: 'purchase',
        amount: 1000,
      });
      await expectApiError(
        ledger.grant({ userId, amount: 1000, reason: 'Pack', kind: 'grant', idempotencyKey: 'pi_1' }),
        'IDEMPOTENCY_CONFLICT',
      );
    });

    it('refuses unknown accounts and amounts that are not positive whole numbers', async () => {
      await expectApiError(ledger.grant({ userId: uniqueId('usr'), amount: 5, reason: 'x' }), 'NOT_FOUND');
      const userId = await userWithAccount(db(), ledger);
      for (const amount of [0, -5, 1.5, Number.NaN, 2_000_000_000]) {
        await expectApiError(ledger.grant({ userId, amount, reason: 'x' }), 'VALIDATION_FAILED');
      }
      expect((await ledger.balance(userId)).balance).toBe(100);
    });
  });

  describe('holds', () => {
    it('a reserve moves credits from available to held, with a reserve entry', async () => {
      const userId = await userWithAccount(db(), ledger);
      const runId = uniqueId('run');
      const hold = await reserve(userId, 35, { runId });
      expect(hold).toMatchObject({
        userId,
        runId,
        amount: 35,
        captured: 0,
        returned: null,
        state: 'pending',
      });
      expect(hold.expiresAt).toEqual(new Date(clock.now().getTime() + HOUR));
      expect(await ledger.balance(userId)).toMatchObject({ balance: 100, held: 35, available: 65 });
      expect((await ledger.history(userId, { limit: 1 })).entries[0]).toMatchObject({
        kind: 'reserve',
        amount: 35,
        heldDelta: 35,
        balanceDelta: 0,
        runId,
        holdId: hold.id,
      });
    });

    it('refuses a reserve the available credits cannot cover with 402 INSUFFICIENT_CREDITS { required, available }', async () => {
      const userId = await userWithAccount(db(), ledger);
      await reserve(userId, 90);
      const error = await expectApiError(reserve(userId, 11), 'INSUFFICIENT_CREDITS');
      expect(error.status).toBe(402);
      expect(error.details).toEqual({ required: 11, available: 10 });
      expect(await reserve(userId, 10)).toMatchObject({ amount: 10 });
      expect(await ledger.balance(userId)).toMatchObject({ held: 100, available: 0 });
    });

    it('the same run id returns the existing hold and never holds twice', async () => {
      const userId = await userWithAccount(db(), ledger);
      const runId = uniqueId('run');
      const first = await reserve(userId, 40, { runId });
      const second = await reserve(userId, 40, { runId });
      expect(second).toEqual({ ...first, replayed: true });
      // Even when the account could no longer cover it, or the amount differs.
      await reserve(userId, 60);
      expect((await reserve(userId, 70, { runId })).id).toBe(first.id);
      expect((await ledger.balance(userId)).held).toBe(100);
      expect((await entrySums(db(), userId)).kinds.reserve).toBe(2);
    });

    it("refuses another account's run id, and unknown accounts", async () => {
      const a = await userWithAccount(db(), ledger);
      const b = await userWithAccount(db(), ledger);
      const runId = uniqueId('run');
      await reserve(a, 10, { runId });
      await expectApiError(reserve(b, 10, { runId }), 'CONFLICT');
      await expectApiError(reserve(uniqueId('usr'), 10), 'NOT_FOUND');
    });

    it('partial capture: 20 + 30 + 10 of 100, then release returns 40; a capture beyond the hold is rejected', async () => {
      const userId = await userWithAccount(db(), ledger, { balance: 150 });
      const hold = await reserve(userId, 100);
      expect(await ledger.capture({ holdId: hold.id, nodeId: 'enhance', amount: 20 })).toEqual({
        captured: true,
        amount: 20,
        replayed: false,
        remaining: 80,
      });
      await ledger.capture({ holdId: hold.id, nodeId: 'image', amount: 30 });
      await ledger.capture({ holdId: hold.id, nodeId: 'video', amount: 10 });
      const beyond = await expectApiError(
        ledger.capture({ holdId: hold.id, nodeId: 'extra', amount: 41 }),
        'CONFLICT',
      );
      expect(beyond.details).toMatchObject({ requested: 41, remaining: 40 });
      expect(await ledger.balance(userId)).toMatchObject({ balance: 90, held: 40, available: 50 });

      expect(await ledger.release({ holdId: hold.id })).toEqual({
        returned: 40,
        state: 'released',
        replayed: false,
      });
      expect(await ledger.getHold(hold.id)).toMatchObject({ state: 'released', captured: 60, returned: 40 });
      expect(await ledger.balance(userId)).toMatchObject({ balance: 90, held: 0, available: 90 });
      expect((await ledger.reconcile({ userIds: [userId] })).drift).toEqual([]);
    });

    it('captures each (hold, node) at most once: a repeat returns the first result and charges nothing', async () => {
      const userId = await userWithAccount(db(), ledger);
      const hold = await reserve(userId, 50);
      await ledger.capture({ holdId: hold.id, nodeId: 'image', amount: 3 });
      expect(await ledger.capture({ holdId: hold.id, nodeId: 'image', amount: 3 })).toEqual({
        captured: true,
        amount: 3,
        replayed: true,
        remaining: 47,
      });
      // Even with another amount: the first capture stands.
      expect(await ledger.capture({ holdId: hold.id, nodeId: 'image', amount: 7 })).toMatchObject({
        amount: 3,
        replayed: true,
      });
      expect(await ledger.balance(userId)).toMatchObject({ balance: 97, held: 47 });
      const { kinds } = await entrySums(db(), userId);
      expect(kinds.capture).toBe(1);
    });

    it('a capture on a released hold charges nothing', async () => {
      const userId = await userWithAccount(db(), ledger);
      const hold = await reserve(userId, 50);
      await ledger.release({ holdId: hold.id });
      expect(await ledger.capture({ holdId: hold.id, nodeId: 'image', amount: 3 })).toEqual({
        captured: false,
        state: 'released',
      });
      expect(await ledger.balance(userId)).toMatchObject({ balance: 100, held: 0 });
    });

    it('releases at most once: a repeat returns the first result', async () => {
      const userId = await userWithAccount(db(), ledger);
      const hold = await reserve(userId, 50);
      await ledger.capture({ holdId: hold.id, nodeId: 'a', amount: 5 });
      expect(await ledger.release({ holdId: hold.id })).toEqual({
        returned: 45,
        state: 'released',
        replayed: false,
      });
      expect(await ledger.release({ holdId: hold.id })).toEqual({
        returned: 45,
        state: 'released',
        replayed: true,
      });
      expect((await entrySums(db(), userId)).kinds.release).toBe(1);
      expect(await ledger.balance(userId)).toMatchObject({ balance: 95, held: 0, available: 95 });
    });

    it('a hold of 0 can be placed and released', async () => {
      const userId = await userWithAccount(db(), ledger);
      const hold = await reserve(userId, 0);
      expect(await ledger.release({ holdId: hold.id })).toMatchObject({ returned: 0 });
    });

    it('refuses unknown holds and bad amounts', async () => {
      await expectApiError(ledger.capture({ holdId: 'hold_nope', nodeId: 'a', amount: 1 }), 'NOT_FOUND');
      await expectApiError(ledger.release({ holdId: 'hold_nope' }), 'NOT_FOUND');
      const userId = await userWithAccount(db(), ledger);
      const hold = await reserve(userId, 10);
      await expectApiError(ledger.capture({ holdId: hold.id, nodeId: 'a', amount: 0 }), 'VALIDATION_FAILED');
      await expectApiError(reserve(userId, -1), 'VALIDATION_FAILED');
    });
  });

  describe('the expiry sweeper', () => {
    it('releases a leaked reservation (a run that died) once it expires, and not before', async () => {
      const userId = await userWithAccount(db(), ledger);
      const hold = await reserve(userId, 60, { ttl: 10 * 60_000 });
      await ledger.capture({ holdId: hold.id, nodeId: 'enhance', amount: 1 });
      clock.advance(10 * 60_000 - 1);
      await ledger.sweepExpiredHolds();
      expect((await ledger.getHold(hold.id))?.state).toBe('pending');

      clock.advance(1);
      const report = await ledger.sweepExpiredHolds();
      expect(report.expired).toBeGreaterThanOrEqual(1);
      expect(await ledger.getHold(hold.id)).toMatchObject({ state: 'expired', captured: 1, returned: 59 });
      expect(await ledger.balance(userId)).toMatchObject({ balance: 99, held: 0, available: 99 });
      expect((await ledger.history(userId, { limit: 1 })).entries[0]).toMatchObject({
        kind: 'expire',
        amount: 59,
      });

      // The run's late calls change nothing.
      expect(await ledger.release({ holdId: hold.id })).toEqual({
        returned: 59,
        state: 'expired',
        replayed: true,
      });
      expect(await ledger.capture({ holdId: hold.id, nodeId: 'image', amount: 3 })).toEqual({
        captured: false,
        state: 'expired',
      });
      await ledger.sweepExpiredHolds();
      expect((await entrySums(db(), userId)).kinds.expire).toBe(1);
    });

    it('works through more expired holds than one batch', async () => {
      const userId = await userWithAccount(db(), ledger, { balance: 1000 });
      const holds = await Promise.all(Array.from({ length: 7 }, () => reserve(userId, 10, { ttl: 1000 })));
      clock.advance(1000);
      await ledger.sweepExpiredHolds({ batchSize: 3 });
      for (const hold of holds) expect((await ledger.getHold(hold.id))?.state).toBe('expired');
      expect((await ledger.balance(userId)).held).toBe(0);
    });
  });

  describe('monthly renewal', () => {
    it('tops the balance up to the allowance when the period ends, once', async () => {
      const userId = await userWithAccount(db(), ledger);
      const hold = await reserve(userId, 70);
      await ledger.capture({ holdId: hold.id, nodeId: 'video', amount: 70 });
      await ledger.release({ holdId: hold.id });
      clock.advance(30 * DAY);
      await ledger.renewDue();
      expect((await ledger.balance(userId)).balance).toBe(30);

      clock.set(new Date('2030-02-15T12:00:00.000Z'));
      await ledger.renewDue();
      await ledger.renewDue();
      expect(await ledger.balance(userId)).toMatchObject({
        balance: 100,
        periodStart: new Date('2030-02-15T12:00:00.000Z'),
        renewsAt: new Date('2030-03-15T12:00:00.000Z'),
      });
      expect((await ledger.history(userId, { limit: 1 })).entries[0]).toMatchObject({
        kind: 'renewal',
        amount: 70,
        reason: 'Free plan renewed',
      });
      expect((await entrySums(db(), userId)).kinds.renewal).toBe(2);
    });

    it('never takes away granted credits, and skips missed periods without paying them twice', async () => {
      const userId = await userWithAccount(db(), ledger, { balance: 250 });
      clock.set(new Date('2030-05-20T00:00:00.000Z'));
      await ledger.renewDue();
      expect(await ledger.balance(userId)).toMatchObject({
        balance: 250,
        periodStart: new Date('2030-05-15T12:00:00.000Z'),
        renewsAt: new Date('2030-06-15T12:00:00.000Z'),
      });
      expect((await entrySums(db(), userId)).kinds.renewal).toBe(2);
    });

    it('leaves unlimited accounts as they are, apart from the new period', async () => {
      const userId = await userWithAccount(db(), ledger, { plan: 'enterprise' });
      const hold = await reserve(userId, 10);
      await ledger.capture({ holdId: hold.id, nodeId: 'a', amount: 10 });
      clock.advance(32 * DAY);
      await ledger.renewDue();
      expect(await ledger.balance(userId)).toMatchObject({
        balance: -10,
        held: 0,
        renewsAt: new Date('2030-03-15T12:00:00.000Z'),
      });
    });
  });

  describe('plan changes', () => {
    it('an upgrade tops up to the new allowance and starts a new period; a downgrade keeps the balance', async () => {
      const userId = await userWithAccount(db(), ledger);
      await reserve(userId, 30);
      clock.advance(3 * DAY);
      expect(await ledger.setPlan({ userId, plan: 'pro' })).toMatchObject({
        plan: 'pro',
        balance: 2000,
        held: 30,
        periodStart: clock.now(),
      });
      expect((await ledger.history(userId, { limit: 1 })).entries[0]).toMatchObject({
        kind: 'renewal',
        amount: 1900,
        reason: 'Plan changed from Free to Pro',
      });
      expect(await ledger.setPlan({ userId, plan: 'free' })).toMatchObject({ plan: 'free', balance: 2000 });
      expect((await ledger.setPlan({ userId, plan: 'free' })).balance).toBe(2000);
    });

    it('leaving an unlimited plan tops a negative balance up, unless running holds exceed it', async () => {
      const userId = await userWithAccount(db(), ledger, { plan: 'enterprise' });
      const spent = await reserve(userId, 300);
      await ledger.capture({ holdId: spent.id, nodeId: 'video', amount: 300 });
      await ledger.release({ holdId: spent.id });
      const running = await reserve(userId, 150);
      const refused = await expectApiError(ledger.setPlan({ userId, plan: 'free' }), 'CONFLICT');
      expect(refused.details).toEqual({ held: 150, balance: 100 });
      await ledger.release({ holdId: running.id });
      expect(await ledger.setPlan({ userId, plan: 'free' })).toMatchObject({
        plan: 'free',
        unlimited: false,
        balance: 100,
      });
      expect((await ledger.reconcile({ userIds: [userId] })).drift).toEqual([]);
    });
  });

  describe('balance and history', () => {
    it('reports what was used today and this week (captures only)', async () => {
      const userId = await userWithAccount(db(), ledger, { balance: 500 });
      const charge = async (amount: number) => {
        const hold = await reserve(userId, amount);
        await ledger.capture({ holdId: hold.id, nodeId: 'n', amount });
        await ledger.release({ holdId: hold.id });
      };
      clock.set(new Date('2030-01-13T23:00:00Z')); // Sunday: last week
      await charge(7);
      clock.set(new Date('2030-01-14T09:00:00Z')); // Monday
      await charge(11);
      clock.set(new Date('2030-01-16T08:00:00Z')); // Wednesday
      await charge(13);
      await reserve(userId, 50); // held, not used
      clock.set(new Date('2030-01-16T20:00:00Z'));
      expect(await ledger.balance(userId)).toMatchObject({ usedToday: 13, usedThisWeek: 24, held: 50 });
    });

    it('pages through the history newest first with a seq cursor', async () => {
      const userId = await userWithAccount(db(), ledger);
      const runId = uniqueId('run');
      const hold = await reserve(userId, 20, { runId });
      await ledger.capture({ holdId: hold.id, nodeId: 'image', amount: 3 });
      await ledger.release({ holdId: hold.id });
      await ledger.grant({ userId, amount: 5, reason: 'gift' });

      const first = await ledger.history(userId, { limit: 2 });
      expect(first.entries.map((e) => e.kind)).toEqual(['grant', 'release']);
      expect(first.nextCursor).toBe(first.entries[1]?.seq);
      const second = await ledger.history(userId, { limit: 2, before: first.nextCursor ?? 0 });
      expect(second.entries.map((e) => [e.kind, e.amount, e.runId, e.nodeId])).toEqual([
        ['capture', 3, runId, 'image'],
        ['reserve', 20, runId, null],
      ]);
      const last = await ledger.history(userId, { limit: 2, before: second.nextCursor ?? 0 });
      expect(last).toMatchObject({ entries: [{ kind: 'renewal', amount: 100 }], nextCursor: null });
      const seqs = [...first.entries, ...second.entries, ...last.entries].map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    });
  });

  describe('reconciliation', () => {
    it('finds an account whose cached balance was changed behind the ledger, and nothing else', async () => {
      const userId = await userWithAccount(db(), ledger);
      await reserve(userId, 10);
      await sql`update credit_accounts set balance = balance + 7 where user_id = ${userId}`.execute(db());
      try {
        const report = await ledger.reconcile({ userIds: [userId] });
        expect(report.accounts).toBe(1);
        expect(report.drift).toEqual([
          {
            userId,
            balance: 107,
            held: 10,
            entriesBalance: 100,
            entriesHeld: 10,
            pendingHolds: 10,
            lastBalanceAfter: 100,
            lastHeldAfter: 10,
          },
        ]);
      } finally {
        await sql`update credit_accounts set balance = balance - 7 where user_id = ${userId}`.execute(db());
      }
      expect((await ledger.reconcile({ userIds: [userId] })).drift).toEqual([]);
    });

    it('shows no drift over every account after all of the above', async () => {
      const report = await ledger.reconcile();
      expect(report.accounts).toBeGreaterThan(10);
      expect(report.drift).toEqual([]);
      expect(report.holdDrift).toEqual([]);
    });
  });
});

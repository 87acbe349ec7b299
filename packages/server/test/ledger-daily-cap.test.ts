/**
 * The daily credit cap (PRD: "seuils sur consommation anormale"): a reserve is refused with 429
 * `DAILY_CAP_REACHED` when held + captured today (UTC) + amount would pass the account's cap (its
 * own, else the server default), with no hold and no entry written. Parallel reserves, captures and
 * releases never take an account past its cap (separate pools on PostgreSQL, interleaved on PGlite).
 */
import { shortVideoTemplate } from '@vidgenie/nodes';
import fc from 'fast-check';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../src/db/open-database.ts';
import type { DB } from '../src/db/schema.ts';
import { ApiError } from '../src/errors/api-error.ts';
import { type CreditLedger, createCreditLedger } from '../src/ledger/credit-ledger.ts';
import { setDailyCreditCap } from '../src/ledger/set-daily-credit-cap.ts';
import {
  expectApiError,
  type TestClock,
  testClock,
  uniqueId,
  userWithAccount,
} from './support/ledger-fixtures.ts';
import { createTestApp, type TestApp } from './support/test-app.ts';
import { describeEachDatabase } from './support/test-databases.ts';

const HOUR = 3_600_000;

/** What the account has used today by its own entries (independent of the trigger's column). */
async function usedToday(db: Kysely<DB>, userId: string, now: Date) {
  const dayStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const captures = await db
    .selectFrom('ledger_entries')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('balance_delta'), eb.lit(0)).as('sum'))
    .where('user_id', '=', userId)
    .where('kind', '=', 'capture')
    .where('created_at', '>=', dayStart)
    .executeTakeFirstOrThrow();
  const account = await db
    .selectFrom('credit_accounts')
    .select(['held', 'captured_today', 'captured_day'])
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  return { captured: -Number(captures.sum) || 0, held: account.held, column: account };
}

describeEachDatabase('daily credit cap', ({ lane, db, database }) => {
  let clock: TestClock;
  let ledger: CreditLedger;
  beforeEach(() => {
    clock = testClock();
    ledger = createCreditLedger({ db: db(), now: clock.now, dailyCreditCap: 30 });
  });
  const reserve = (userId: string, amount: number, runId = uniqueId('run'), on = ledger) =>
    on.reserve({ userId, runId, amount, expiresInMs: HOUR });

  it('refuses a reserve past the cap with 429, required/available/cap, Retry-After, and writes nothing', async () => {
    const userId = await userWithAccount(db(), ledger);
    await reserve(userId, 20);
    const runId = uniqueId('run');
    const error = await expectApiError(reserve(userId, 11, runId), 'DAILY_CAP_REACHED');
    expect(error.status).toBe(429);
    expect(error.details).toEqual({
      required: 11,
      available: 10,
      cap: 30,
      usedToday: 20,
      resetsAt: '2030-01-16T00:00:00.000Z',
    });
    expect(error.headers).toEqual({ 'Retry-After': String(12 * 3600) });
    expect(await db().selectFrom('credit_holds').select('id').where('run_id', '=', runId).execute()).toEqual(
      [],
    );
    expect(
      await db().selectFrom('ledger_entries').select('id').where('run_id', '=', runId).execute(),
    ).toEqual([]);
    expect(await ledger.balance(userId)).toMatchObject({ balance: 100, held: 20 });
    // Exactly up to the cap is allowed.
    await reserve(userId, 10);
    await expectApiError(reserve(userId, 1), 'DAILY_CAP_REACHED');
  });

  it('counts captures of the UTC day: released credits come back, captured ones do not', async () => {
    const userId = await userWithAccount(db(), ledger);
    const hold = await reserve(userId, 20);
    await ledger.capture({ holdId: hold.id, nodeId: 'image', amount: 12 });
    await ledger.release({ holdId: hold.id });
    expect(await usedToday(db(), userId, clock.now())).toMatchObject({ captured: 12, held: 0 });
    await expectApiError(reserve(userId, 19), 'DAILY_CAP_REACHED');
    const second = await reserve(userId, 18);
    await ledger.capture({ holdId: second.id, nodeId: 'video', amount: 18 });
    const used = await usedToday(db(), userId, clock.now());
    expect(used).toMatchObject({ captured: 30, held: 0 });
    expect(used.column.captured_today).toBe(30);
    await expectApiError(reserve(userId, 1), 'DAILY_CAP_REACHED');

    // A new UTC day: the captures of yesterday no longer count, pending holds still do.
    const pending = await reserve(
      userId,
      1,
      uniqueId('run'),
      createCreditLedger({ db: db(), now: clock.now }),
    );
    clock.set(new Date('2030-01-16T00:00:01.000Z'));
    await expectApiError(reserve(userId, 30), 'DAILY_CAP_REACHED');
    const fresh = await reserve(userId, 29);
    await ledger.capture({ holdId: fresh.id, nodeId: 'image', amount: 5 });
    const today = await usedToday(db(), userId, clock.now());
    expect(today).toMatchObject({ captured: 5, held: 25 });
    expect(today.column.captured_today).toBe(5);
    await ledger.release({ holdId: pending.id });
    await ledger.release({ holdId: fresh.id });
  });

  it('uses the account override over the default: null goes back to it, 0 refuses everything', async () => {
    const admin = await userWithAccount(db(), ledger);
    const userId = await userWithAccount(db(), ledger, { balance: 1000 });
    await setDailyCreditCap(db(), { userId, dailyCap: 200, actorUserId: admin });
    await reserve(userId, 150);
    await expectApiError(reserve(userId, 51), 'DAILY_CAP_REACHED');
    await setDailyCreditCap(db(), { userId, dailyCap: null, actorUserId: admin });
    const error = await expectApiError(reserve(userId, 1), 'DAILY_CAP_REACHED');
    expect(error.details).toMatchObject({ cap: 30, available: 0, usedToday: 150 });
    const other = await userWithAccount(db(), ledger);
    await setDailyCreditCap(db(), { userId: other, dailyCap: 0, actorUserId: admin });
    await expectApiError(reserve(other, 1), 'DAILY_CAP_REACHED');
    // Without a server default, only accounts with their own cap are capped.
    const uncapped = createCreditLedger({ db: db(), now: clock.now });
    await reserve(admin, 90, uniqueId('run'), uncapped);
    await expectApiError(reserve(other, 1, uniqueId('run'), uncapped), 'DAILY_CAP_REACHED');
    await expectApiError(
      setDailyCreditCap(db(), { userId: 'usr_nobody', dailyCap: 1, actorUserId: admin }),
      'NOT_FOUND',
    );
    const audit = await db()
      .selectFrom('audit_log')
      .select(['detail'])
      .where('action', '=', 'credits.daily_cap_set')
      .where('subject_user_id', '=', userId)
      .execute();
    expect(audit.map((row) => row.detail)).toEqual([{ dailyCap: 200 }, { dailyCap: null }]);
  });

  it('replays a run that already has its hold, and reports a short balance before the cap', async () => {
    const userId = await userWithAccount(db(), ledger);
    const runId = uniqueId('run');
    const first = await reserve(userId, 30, runId);
    const again = await reserve(userId, 30, runId);
    expect(again).toMatchObject({ id: first.id, replayed: true });
    const rich = createCreditLedger({ db: db(), now: clock.now, dailyCreditCap: 10_000 });
    const poor = await userWithAccount(db(), rich);
    await expectApiError(reserve(poor, 101, uniqueId('run'), rich), 'INSUFFICIENT_CREDITS');
    await expectApiError(reserve(poor, 101), 'INSUFFICIENT_CREDITS');
  });

  describe('under concurrency', () => {
    let racers: CreditLedger[] = [];
    const pools: Database[] = [];
    const clockNow = () => new Date('2030-03-03T10:00:00.000Z');
    beforeAll(async () => {
      const url = database().url;
      if (lane === 'postgres' && url !== undefined) {
        for (let i = 0; i < 4; i++)
          pools.push(await openDatabase({ kind: 'postgres', url, maxConnections: 5 }));
        racers = pools.map((pool) => createCreditLedger({ db: pool.db, now: clockNow, dailyCreditCap: 50 }));
      } else {
        racers = [0, 1].map(() => createCreditLedger({ db: db(), now: clockNow, dailyCreditCap: 50 }));
      }
    });
    afterAll(async () => {
      await Promise.all(pools.map((pool) => pool.close()));
    });
    const racer = (i: number) => racers[i % racers.length] as CreditLedger;

    it('50 parallel reserves of 7 against a cap of 50 (balance 1000): exactly 7 pass, the rest get 429', async () => {
      const userId = await userWithAccount(db(), racer(0), { balance: 1000 });
      const results = await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) => reserve(userId, 7, uniqueId('run'), racer(i))),
      );
      const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(7);
      for (const error of refused) {
        expect(error).toBeInstanceOf(ApiError);
        expect((error as ApiError).code).toBe('DAILY_CAP_REACHED');
      }
      expect(await racer(0).balance(userId)).toMatchObject({ balance: 1000, held: 49 });
    });

    it('parallel reserves, captures and releases never take an account past its cap (property)', async () => {
      const Op = fc.oneof(
        fc.record({ kind: fc.constant('reserve' as const), amount: fc.integer({ min: 1, max: 20 }) }),
        fc.record({
          kind: fc.constant('capture' as const),
          hold: fc.nat({ max: 10 }),
          amount: fc.integer({ min: 1, max: 10 }),
        }),
        fc.record({ kind: fc.constant('release' as const), hold: fc.nat({ max: 10 }) }),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.array(Op, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 4 }),
          async (rounds) => {
            const userId = await userWithAccount(db(), racer(0), { balance: 1000 });
            const holds: { id: string; amount: number }[] = [];
            let reserved = 0;
            for (const round of rounds) {
              // Each round's operations race; holds placed by earlier rounds are the ones touched.
              const known = [...holds];
              const outcomes = await Promise.allSettled(
                round.map((op, i) => {
                  const ledgerOf = racer(i);
                  if (op.kind === 'reserve') {
                    return reserve(userId, op.amount, uniqueId('run'), ledgerOf).then((hold) => {
                      holds.push({ id: hold.id, amount: op.amount });
                      reserved += op.amount;
                    });
                  }
                  const hold = known[op.hold % Math.max(1, known.length)];
                  if (hold === undefined) return Promise.resolve();
                  if (op.kind === 'release') return ledgerOf.release({ holdId: hold.id });
                  return ledgerOf.capture({ holdId: hold.id, nodeId: uniqueId('node'), amount: op.amount });
                }),
              );
              for (const outcome of outcomes) {
                if (outcome.status === 'fulfilled') continue;
                const error = outcome.reason as ApiError;
                // Refused reserves (cap) and captures that no longer fit their hold are expected.
                expect(['DAILY_CAP_REACHED', 'CONFLICT']).toContain(error.code);
              }
              const used = await usedToday(db(), userId, clockNow());
              expect(used.captured + used.held).toBeLessThanOrEqual(50);
              expect(used.column.captured_today).toBe(used.captured);
            }
            expect(reserved).toBeGreaterThanOrEqual(0);
          },
        ),
        { numRuns: lane === 'postgres' ? 30 : 15 },
      );
    });
  });

  describe('over HTTP', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(database(), { env: { VIDGENIE_DAILY_CREDIT_CAP: '20' } });
    });
    afterAll(async () => {
      await t?.services.close();
    });

    it('execute answers 429 DAILY_CAP_REACHED with Retry-After and stores nothing; an admin override lifts it', async () => {
      const admin = await t.signUp();
      await t.services.db.updateTable('users').set({ role: 'admin' }).where('id', '=', admin.id).execute();
      const user = await t.signUp();
      const graph = shortVideoTemplate({ prompt: 'a red fox', durationSeconds: 15 });
      const estimate = (await (await user.request('POST', '/api/workflow/estimate', graph)).json()) as {
        total: number;
      };
      expect(estimate.total).toBeGreaterThan(20);
      const refused = await user.request(
        'POST',
        '/api/workflow/execute',
        { graph },
        { 'idempotency-key': 'cap-1' },
      );
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      const body = (await refused.json()) as { error: { code: string; details: Record<string, unknown> } };
      expect(body.error.code).toBe('DAILY_CAP_REACHED');
      expect(body.error.details).toMatchObject({ required: estimate.total, available: 20, cap: 20 });
      expect(
        await t.services.db.selectFrom('runs').select('id').where('user_id', '=', user.id).execute(),
      ).toEqual([]);
      expect(
        await t.services.db
          .selectFrom('idempotency_keys')
          .select('key')
          .where('user_id', '=', user.id)
          .execute(),
      ).toEqual([]);

      const set = await admin.request('PUT', `/api/admin/users/${user.id}/daily-cap`, { dailyCap: 500 });
      expect(set.status).toBe(200);
      expect(await set.json()).toEqual({
        userId: user.id,
        dailyCap: 500,
        defaultDailyCap: 20,
        effectiveDailyCap: 500,
      });
      expect(
        (await user.request('PUT', `/api/admin/users/${user.id}/daily-cap`, { dailyCap: null })).status,
      ).toBe(403);
      expect(
        (await admin.request('PUT', '/api/admin/users/usr_nobody/daily-cap', { dailyCap: 1 })).status,
      ).toBe(404);
      expect(
        (await admin.request('PUT', `/api/admin/users/${user.id}/daily-cap`, { dailyCap: -1 })).status,
      ).toBe(400);
      const accepted = await user.request(
        'POST',
        '/api/workflow/execute',
        { graph },
        { 'idempotency-key': 'cap-1' },
      );
      expect(accepted.status).toBe(202);
    });
  });
});

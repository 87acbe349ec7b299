/**
 * The ledger under concurrency (reliability reference F.10–F.14, F.17). On PostgreSQL the racers
 * use separate connection pools, as separate server processes would; on PGlite (one connection)
 * the same races run interleaved statement by statement.
 */
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Database, openDatabase } from '../src/db/open-database.ts';
import type { DB } from '../src/db/schema.ts';
import { ApiError } from '../src/errors/api-error.ts';
import { type CreditLedger, createCreditLedger } from '../src/ledger/credit-ledger.ts';
import { uniqueId, userWithAccount } from './support/ledger-fixtures.ts';
import { describeEachDatabase } from './support/test-databases.ts';

const HOUR = 3_600_000;
/** Accounts racing at once in the capture/release races (each race uses its own hold). */
const LANES = 20;

describeEachDatabase('credit ledger under concurrency', ({ lane, db, database }) => {
  /** Ledgers on separate pools (PostgreSQL), or on the one PGlite connection. */
  let racers: CreditLedger[] = [];
  const pools: Database[] = [];
  beforeAll(async () => {
    const url = database().url;
    if (lane === 'postgres' && url !== undefined) {
      for (let i = 0; i < 4; i++)
        pools.push(await openDatabase({ kind: 'postgres', url, maxConnections: 5 }));
      racers = pools.map((pool) => createCreditLedger({ db: pool.db }));
    } else {
      racers = [createCreditLedger({ db: db() }), createCreditLedger({ db: db() })];
    }
  });
  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.close()));
  });
  /** PGlite runs the races one statement at a time, so fewer of them say as much. */
  const races = lane === 'postgres' ? 1000 : 200;
  const racer = (i: number): CreditLedger => {
    const ledger = racers[i % racers.length];
    if (ledger === undefined) throw new Error('no ledgers');
    return ledger;
  };

  it('balance 100, 50 concurrent reserves of 10: exactly 10 succeed, never negative, final available 0', async () => {
    const ledger = racer(0);
    const userId = await userWithAccount(db(), ledger);
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        racer(i).reserve({ userId, runId: uniqueId('run'), amount: 10, expiresInMs: HOUR }),
      ),
    );
    const succeeded = results.filter((r) => r.status === 'fulfilled');
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    expect(succeeded).toHaveLength(10);
    expect(refused).toHaveLength(40);
    for (const error of refused) {
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).code).toBe('INSUFFICIENT_CREDITS');
      expect((error as ApiError).details).toEqual({ required: 10, available: 0 });
    }
    expect(await ledger.balance(userId)).toMatchObject({ balance: 100, held: 100, available: 0 });
    await expectNeverOverdrawn(db(), userId);
  });

  it('the same run reserved from several connections at once gets one hold', async () => {
    const userId = await userWithAccount(db(), racer(0));
    for (let round = 0; round < 20; round++) {
      const runId = uniqueId('run');
      const holds = await Promise.all(
        [0, 1, 2, 3].map((i) => racer(i).reserve({ userId, runId, amount: 2, expiresInMs: HOUR })),
      );
      expect(new Set(holds.map((hold) => hold.id)).size).toBe(1);
      expect(holds.filter((hold) => !hold.replayed)).toHaveLength(1);
    }
    expect(await racer(0).balance(userId)).toMatchObject({ held: 40, available: 60 });
  });

  it('the same grant sent from several connections at once is granted once', async () => {
    const userId = await userWithAccount(db(), racer(0));
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        racer(i).grant({ userId, amount: 25, reason: 'promo', idempotencyKey: 'promo-race' }),
      ),
    );
    expect(results.filter((result) => !result.replayed)).toHaveLength(1);
    expect(new Set(results.map((result) => result.entryId)).size).toBe(1);
    expect((await racer(0).balance(userId)).balance).toBe(125);
  });

  it(`${races} races of capture against release of the same hold: each resolves once, captured + returned = amount`, async () => {
    const outcomes = { captureFirst: 0, releaseFirst: 0 };
    await Promise.all(
      Array.from({ length: LANES }, async (_, laneIndex) => {
        const userId = await userWithAccount(db(), racer(0), { balance: 100_000 });
        let expectedBalance = 100_000;
        for (let race = 0; race < races / LANES; race++) {
          const hold = await racer(laneIndex).reserve({
            userId,
            runId: uniqueId('run'),
            amount: 100,
            expiresInMs: HOUR,
          });
          // Alternate which call is sent first (on PGlite, the one sent first wins).
          const capture = () => racer(laneIndex).capture({ holdId: hold.id, nodeId: 'video', amount: 30 });
          const release = () => racer(laneIndex + 1).release({ holdId: hold.id });
          const [captured, released] =
            race % 2 === 0
              ? await Promise.all([capture(), release()])
              : await Promise.all([release(), capture()]).then(([r, c]) => [c, r] as const);
          const after = await racer(0).getHold(hold.id);
          expect(after?.state).toBe('released');
          expect((after?.captured ?? 0) + (after?.returned ?? 0)).toBe(100);
          expect(released.replayed).toBe(false);
          if (captured.captured) {
            outcomes.captureFirst += 1;
            expect(after).toMatchObject({ captured: 30, returned: 70 });
            expect(released.returned).toBe(70);
            expectedBalance -= 30;
          } else {
            outcomes.releaseFirst += 1;
            expect(captured).toEqual({ captured: false, state: 'released' });
            expect(after).toMatchObject({ captured: 0, returned: 100 });
          }
        }
        expect(await racer(0).balance(userId)).toMatchObject({ balance: expectedBalance, held: 0 });
        const resolutions = await db()
          .selectFrom('ledger_entries')
          .select((eb) => eb.fn.countAll<number>().as('count'))
          .where('user_id', '=', userId)
          .where('kind', 'in', ['release', 'expire'])
          .executeTakeFirstOrThrow();
        expect(Number(resolutions.count)).toBe(races / LANES);
      }),
    );
    expect(outcomes.captureFirst + outcomes.releaseFirst).toBe(races);
  });

  it(`${races} races of two captures of the same (hold, node): one charge, the other replays it`, async () => {
    await Promise.all(
      Array.from({ length: LANES }, async (_, laneIndex) => {
        const userId = await userWithAccount(db(), racer(0), { balance: 100_000 });
        for (let race = 0; race < races / LANES; race++) {
          const hold = await racer(laneIndex).reserve({
            userId,
            runId: uniqueId('run'),
            amount: 50,
            expiresInMs: HOUR,
          });
          const results = await Promise.all([
            racer(laneIndex).capture({ holdId: hold.id, nodeId: 'image', amount: 5 }),
            racer(laneIndex + 1).capture({ holdId: hold.id, nodeId: 'image', amount: 5 }),
          ]);
          expect(results.map((r) => r.captured && r.replayed).sort()).toEqual([false, true]);
          await racer(laneIndex).release({ holdId: hold.id });
          expect(await racer(0).getHold(hold.id)).toMatchObject({ captured: 5, returned: 45 });
        }
        expect(await racer(0).balance(userId)).toMatchObject({
          balance: 100_000 - 5 * (races / LANES),
          held: 0,
        });
      }),
    );
  });

  it('the sweeper racing releases and captures resolves each hold once', async () => {
    let now = new Date('2030-01-01T00:00:00Z');
    const handles = lane === 'postgres' ? pools.map((pool) => pool.db) : [db(), db()];
    const clocked = handles.map((handle) => createCreditLedger({ db: handle, now: () => now }));
    const at = (i: number): CreditLedger => clocked[i % clocked.length] ?? racer(0);
    const userId = await userWithAccount(db(), racer(0), { balance: 10_000 });
    const holds = await Promise.all(
      Array.from({ length: 100 }, () =>
        at(0).reserve({ userId, runId: uniqueId('run'), amount: 20, expiresInMs: 1000 }),
      ),
    );
    now = new Date(now.getTime() + 1000);
    await Promise.all([
      at(1).sweepExpiredHolds(),
      at(2).sweepExpiredHolds(),
      ...holds.map((hold, i) =>
        i % 2 === 0
          ? at(i).release({ holdId: hold.id })
          : at(i).capture({ holdId: hold.id, nodeId: 'n', amount: 20 }),
      ),
    ]);
    const rows = await db().selectFrom('credit_holds').selectAll().where('user_id', '=', userId).execute();
    expect(rows).toHaveLength(100);
    for (const hold of rows) {
      expect(hold.state).not.toBe('pending');
      expect(hold.captured + (hold.returned ?? Number.NaN)).toBe(20);
    }
    expect(await racer(0).balance(userId)).toMatchObject({ held: 0 });
    expect((await racer(0).reconcile({ userIds: [userId] })).drift).toEqual([]);
  });

  it('reconciliation shows no drift after all of the above', async () => {
    const report = await racer(0).reconcile();
    expect(report.drift).toEqual([]);
    expect(report.holdDrift).toEqual([]);
    const overdrawn = await db()
      .selectFrom('ledger_entries')
      .innerJoin('credit_accounts', 'credit_accounts.user_id', 'ledger_entries.user_id')
      .select('ledger_entries.id')
      .where('credit_accounts.unlimited', '=', false)
      .where((eb) => eb.or([eb('balance_after', '<', 0), eb('held_after', '>', eb.ref('balance_after'))]))
      .execute();
    expect(overdrawn).toEqual([]);
  });
});

/** No entry of the account ever recorded a negative balance or more held than the balance. */
async function expectNeverOverdrawn(db: Kysely<DB>, userId: string): Promise<void> {
  const entries = await db
    .selectFrom('ledger_entries')
    .select(['balance_after', 'held_after'])
    .where('user_id', '=', userId)
    .execute();
  for (const entry of entries) {
    expect(entry.balance_after).toBeGreaterThanOrEqual(0);
    expect(entry.held_after).toBeLessThanOrEqual(entry.balance_after);
  }
}

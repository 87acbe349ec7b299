import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { createCreditLedger } from '../src/ledger/credit-ledger.ts';
import { createRunPlacer, type RunPlacement } from '../src/runs/run-placer.ts';
import { countStatements } from './support/count-statements.ts';
import { uniqueId, userWithAccount } from './support/ledger-fixtures.ts';
import { describeEachDatabase } from './support/test-databases.ts';

describeEachDatabase('placing runs with their holds', ({ db }) => {
  const placement = (userId: string, amount: number, extra: Partial<RunPlacement> = {}): RunPlacement => {
    const now = new Date();
    return {
      runId: uniqueId('run'),
      userId,
      amount,
      estimatedDurationSeconds: 42,
      graph: '{"version":1,"nodes":[],"edges":[]}',
      parentRunId: null,
      rerunFrom: null,
      reason: 'Hold for a test run',
      now,
      expiresAt: new Date(now.getTime() + 3_600_000),
      dailyCreditCap: undefined,
      ...extra,
    };
  };

  it('runs accepted together share statements; each is placed, or not at all, as alone', async () => {
    const ledger = createCreditLedger({ db: db() });
    const rich = await userWithAccount(db(), ledger, { balance: 100 });
    const poor = await userWithAccount(db(), ledger);
    const capped = await userWithAccount(db(), ledger, { balance: 100 });
    await db()
      .updateTable('credit_accounts')
      .set({ daily_credit_cap: 50 })
      .where('user_id', '=', capped)
      .execute();
    const other = await userWithAccount(db(), ledger, { balance: 100 });
    const { db: counted, count: statements } = countStatements(db());
    const place = createRunPlacer(counted);

    const placements = [
      placement(rich, 60),
      placement(poor, 1000), // more than the balance
      placement(rich, 60), // the same account again: 40 left after the first
      placement(capped, 60), // over the account's daily cap
      placement(other, 30, { dailyCreditCap: 20 }), // over the server's default cap
      placement(rich, 40), // exactly what is left
      placement(capped, 50),
    ];
    const placed = await Promise.all(placements.map((p) => place(p)));
    expect(placed).toEqual([true, false, false, false, false, true, true]);
    // Two went at once; the others together, a user's second and third runs in statements after.
    expect(statements()).toBeLessThanOrEqual(5);

    const ids = placements.map((p) => p.runId);
    const runs = await db()
      .selectFrom('runs as r')
      .innerJoin('credit_holds as h', 'h.id', 'r.hold_id')
      .select([
        'r.id',
        'r.user_id',
        'r.status',
        'r.estimated_cost',
        'r.estimated_duration_seconds',
        'h.amount',
      ])
      .where('r.id', 'in', ids)
      .execute();
    const expected = placements.filter((_, i) => placed[i]);
    expect(runs.map((run) => run.id).sort()).toEqual(expected.map((p) => p.runId).sort());
    for (const run of runs) {
      const p = expected.find((e) => e.runId === run.id);
      expect(run).toMatchObject({
        user_id: p?.userId,
        status: 'queued',
        estimated_cost: p?.amount,
        estimated_duration_seconds: 42,
        amount: p?.amount,
      });
    }
    // Nothing at all for the runs not placed: no hold, no entry.
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from credit_holds where run_id = any(${ids.filter((_, i) => !placed[i])})`.execute(
      db(),
    );
    expect(rows[0]?.n).toBe(0);

    const accounts = await db()
      .selectFrom('credit_accounts')
      .select(['user_id', 'balance', 'held'])
      .where('user_id', 'in', [rich, poor, capped, other])
      .execute();
    expect(Object.fromEntries(accounts.map((a) => [a.user_id, a.held]))).toEqual({
      [rich]: 100,
      [poor]: 0,
      [capped]: 50,
      [other]: 0,
    });
    // Each reserve entry carries the balance and held after it, in order: the chain reconciles.
    expect(await ledger.reconcile({ userIds: [rich, poor, capped, other] })).toMatchObject({
      drift: [],
      holdDrift: [],
    });
    const entries = await db()
      .selectFrom('ledger_entries')
      .select(['held_after'])
      .where('user_id', '=', rich)
      .where('kind', '=', 'reserve')
      .orderBy('seq')
      .execute();
    expect(entries.map((entry) => entry.held_after)).toEqual([60, 100]);
  });
});

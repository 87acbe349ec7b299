/**
 * Model-based test of the ledger (reliability reference F.15): random sequences of reserve,
 * capture, release, expire (clock + sweeper), renew, grant and plan changes run against the real
 * ledger and an in-memory model of what it should do. After every step the database must equal
 * the model, and the invariants must hold whatever the model says.
 *
 * Runs `LEDGER_MODEL_RUNS` sequences per database (default 40); set it higher for a soak.
 */
import fc from 'fast-check';
import type { Kysely } from 'kysely';
import { expect, it } from 'vitest';
import type { DB, HoldState, PlanId } from '../src/db/schema.ts';
import { type CreditLedger, createCreditLedger } from '../src/ledger/credit-ledger.ts';
import { addMonths, currentPeriod, PLANS, renewalTopUp } from '../src/ledger/plans.ts';
import {
  expectApiError,
  type TestClock,
  testClock,
  uniqueId,
  userWithAccount,
} from './support/ledger-fixtures.ts';
import { describeEachDatabase } from './support/test-databases.ts';

const RUNS = Number(process.env.LEDGER_MODEL_RUNS ?? 40);
const MINUTE = 60_000;
const NODES = ['enhance', 'image', 'video'] as const;

interface ModelHold {
  realId: string;
  runIndex: number;
  amount: number;
  captured: number;
  captures: Map<string, number>;
  state: HoldState;
  returned: number | null;
  expiresAt: number;
}

interface Model {
  plan: PlanId;
  unlimited: boolean;
  balance: number;
  held: number;
  renewsAt: number;
  holds: ModelHold[];
  grants: Map<string, number>;
}

interface Real {
  readonly db: Kysely<DB>;
  readonly ledger: CreditLedger;
  readonly clock: TestClock;
  readonly userId: string;
  readonly runPrefix: string;
}

type LedgerCommand = fc.AsyncCommand<Model, Real>;

const holdAt = (model: Model, index: number): ModelHold | undefined =>
  model.holds[index % model.holds.length];

class Reserve implements LedgerCommand {
  constructor(
    readonly runIndex: number,
    readonly amount: number,
    readonly ttlMinutes: number,
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const runId = `${real.runPrefix}-${this.runIndex}`;
    const promise = real.ledger.reserve({
      userId: real.userId,
      runId,
      amount: this.amount,
      expiresInMs: this.ttlMinutes * MINUTE,
    });
    const existing = model.holds.find((hold) => hold.runIndex === this.runIndex);
    if (existing !== undefined) {
      const hold = await promise;
      expect(hold).toMatchObject({ id: existing.realId, replayed: true, amount: existing.amount });
    } else if (!model.unlimited && model.balance - model.held < this.amount) {
      const error = await expectApiError(promise, 'INSUFFICIENT_CREDITS');
      expect(error.details).toEqual({
        required: this.amount,
        available: Math.max(0, model.balance - model.held),
      });
    } else {
      const hold = await promise;
      expect(hold).toMatchObject({ amount: this.amount, state: 'pending', replayed: false });
      model.holds.push({
        realId: hold.id,
        runIndex: this.runIndex,
        amount: this.amount,
        captured: 0,
        captures: new Map(),
        state: 'pending',
        returned: null,
        expiresAt: real.clock.now().getTime() + this.ttlMinutes * MINUTE,
      });
      model.held += this.amount;
    }
    await checkState(model, real);
  }
  toString = () => `reserve(run ${this.runIndex}, ${this.amount}, ttl ${this.ttlMinutes} min)`;
}

class Capture implements LedgerCommand {
  constructor(
    readonly holdIndex: number,
    readonly nodeId: string,
    readonly amount: number,
  ) {}
  check = (model: Readonly<Model>) => model.holds.length > 0;
  async run(model: Model, real: Real) {
    const hold = holdAt(model, this.holdIndex);
    if (hold === undefined) throw new Error('no hold');
    const promise = real.ledger.capture({ holdId: hold.realId, nodeId: this.nodeId, amount: this.amount });
    const first = hold.captures.get(this.nodeId);
    if (first !== undefined) {
      expect(await promise).toEqual({
        captured: true,
        amount: first,
        replayed: true,
        remaining: hold.amount - hold.captured,
      });
    } else if (hold.state !== 'pending') {
      expect(await promise).toEqual({ captured: false, state: hold.state });
    } else if (hold.captured + this.amount > hold.amount) {
      await expectApiError(promise, 'CONFLICT');
    } else {
      hold.captured += this.amount;
      hold.captures.set(this.nodeId, this.amount);
      model.balance -= this.amount;
      model.held -= this.amount;
      expect(await promise).toEqual({
        captured: true,
        amount: this.amount,
        replayed: false,
        remaining: hold.amount - hold.captured,
      });
    }
    await checkState(model, real);
  }
  toString = () => `capture(hold ${this.holdIndex}, ${this.nodeId}, ${this.amount})`;
}

class Release implements LedgerCommand {
  constructor(readonly holdIndex: number) {}
  check = (model: Readonly<Model>) => model.holds.length > 0;
  async run(model: Model, real: Real) {
    const hold = holdAt(model, this.holdIndex);
    if (hold === undefined) throw new Error('no hold');
    const result = await real.ledger.release({ holdId: hold.realId });
    if (hold.state === 'pending') {
      hold.state = 'released';
      hold.returned = hold.amount - hold.captured;
      model.held -= hold.returned;
      expect(result).toEqual({ returned: hold.returned, state: 'released', replayed: false });
    } else {
      expect(result).toEqual({ returned: hold.returned, state: hold.state, replayed: true });
    }
    await checkState(model, real);
  }
  toString = () => `release(hold ${this.holdIndex})`;
}

class ExpireAfter implements LedgerCommand {
  constructor(readonly minutes: number) {}
  check = () => true;
  async run(model: Model, real: Real) {
    real.clock.advance(this.minutes * MINUTE);
    await real.ledger.sweepExpiredHolds();
    const now = real.clock.now().getTime();
    for (const hold of model.holds) {
      if (hold.state === 'pending' && hold.expiresAt <= now) {
        hold.state = 'expired';
        hold.returned = hold.amount - hold.captured;
        model.held -= hold.returned;
      }
    }
    await checkState(model, real);
  }
  toString = () => `advance ${this.minutes} min and sweep`;
}

class Renew implements LedgerCommand {
  check = () => true;
  async run(model: Model, real: Real) {
    const now = new Date(Math.max(real.clock.now().getTime(), model.renewsAt + MINUTE));
    real.clock.set(now);
    await real.ledger.renewDue();
    const period = currentPeriod({ renewsAt: new Date(model.renewsAt), now });
    if (!model.unlimited) model.balance += renewalTopUp({ plan: model.plan, balance: model.balance });
    model.renewsAt = period.renewsAt.getTime();
    await checkState(model, real);
  }
  toString = () => 'renew at the end of the period';
}

class Grant implements LedgerCommand {
  constructor(
    readonly keyIndex: number,
    readonly amount: number,
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const key = `key-${this.keyIndex}`;
    const promise = real.ledger.grant({
      userId: real.userId,
      amount: this.amount,
      reason: 'model',
      idempotencyKey: key,
    });
    const first = model.grants.get(key);
    if (first === undefined) {
      model.grants.set(key, this.amount);
      model.balance += this.amount;
      expect(await promise).toMatchObject({ replayed: false, balance: model.balance, held: model.held });
    } else if (first === this.amount) {
      expect(await promise).toMatchObject({ replayed: true });
    } else {
      await expectApiError(promise, 'IDEMPOTENCY_CONFLICT');
    }
    await checkState(model, real);
  }
  toString = () => `grant(key ${this.keyIndex}, ${this.amount})`;
}

class SetPlan implements LedgerCommand {
  constructor(readonly plan: PlanId) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const promise = real.ledger.setPlan({ userId: real.userId, plan: this.plan });
    if (model.plan === this.plan) {
      await promise;
    } else {
      const unlimited = PLANS[this.plan].monthlyCredits === null;
      const balance = model.balance + renewalTopUp({ plan: this.plan, balance: model.balance });
      if (!unlimited && model.held > balance) {
        await expectApiError(promise, 'CONFLICT');
      } else {
        await promise;
        Object.assign(model, {
          plan: this.plan,
          unlimited,
          balance,
          renewsAt: addMonths(real.clock.now(), 1).getTime(),
        });
      }
    }
    await checkState(model, real);
  }
  toString = () => `setPlan(${this.plan})`;
}

/** The database equals the model, and the invariants hold on the database itself. */
async function checkState(model: Model, real: Real): Promise<void> {
  const account = await real.db
    .selectFrom('credit_accounts')
    .selectAll()
    .where('user_id', '=', real.userId)
    .executeTakeFirstOrThrow();
  expect({
    plan: account.plan,
    unlimited: account.unlimited,
    balance: account.balance,
    held: account.held,
    renewsAt: new Date(account.renews_at).getTime(),
  }).toEqual({
    plan: model.plan,
    unlimited: model.unlimited,
    balance: model.balance,
    held: model.held,
    renewsAt: model.renewsAt,
  });

  const holds = await real.db
    .selectFrom('credit_holds')
    .selectAll()
    .where('user_id', '=', real.userId)
    .execute();
  const byId = new Map(holds.map((hold) => [hold.id, hold]));
  expect(holds).toHaveLength(model.holds.length);
  for (const expected of model.holds) {
    expect(byId.get(expected.realId)).toMatchObject({
      amount: expected.amount,
      captured: expected.captured,
      state: expected.state,
      returned: expected.returned,
    });
  }

  // Invariants, from the database alone.
  if (!account.unlimited) {
    expect(account.balance).toBeGreaterThanOrEqual(0);
    expect(account.balance - account.held).toBeGreaterThanOrEqual(0);
  }
  const pending = holds.filter((hold) => hold.state === 'pending');
  expect(account.held).toBe(pending.reduce((sum, hold) => sum + hold.amount - hold.captured, 0));
  for (const hold of holds) {
    if (hold.state !== 'pending') expect(hold.captured + (hold.returned ?? Number.NaN)).toBe(hold.amount);
  }
  const entries = await real.db
    .selectFrom('ledger_entries')
    .select(['kind', 'balance_delta', 'held_delta', 'hold_id'])
    .where('user_id', '=', real.userId)
    .execute();
  expect(entries.reduce((sum, entry) => sum + entry.balance_delta, 0)).toBe(account.balance);
  expect(entries.reduce((sum, entry) => sum + entry.held_delta, 0)).toBe(account.held);
  const resolutions = new Map<string, number>();
  for (const entry of entries) {
    if ((entry.kind === 'release' || entry.kind === 'expire') && entry.hold_id !== null) {
      resolutions.set(entry.hold_id, (resolutions.get(entry.hold_id) ?? 0) + 1);
    }
  }
  for (const hold of holds) expect(resolutions.get(hold.id) ?? 0).toBe(hold.state === 'pending' ? 0 : 1);
  const report = await real.ledger.reconcile({ userIds: [real.userId] });
  expect(report.drift).toEqual([]);
  expect(report.holdDrift).toEqual([]);
}

const commands = [
  fc
    .tuple(fc.nat({ max: 5 }), fc.integer({ min: 0, max: 120 }), fc.integer({ min: 1, max: 120 }))
    .map(([run, amount, ttl]) => new Reserve(run, amount, ttl)),
  fc
    .tuple(fc.nat({ max: 20 }), fc.constantFrom(...NODES), fc.integer({ min: 1, max: 60 }))
    .map(([hold, node, amount]) => new Capture(hold, node, amount)),
  fc.nat({ max: 20 }).map((hold) => new Release(hold)),
  fc.integer({ min: 1, max: 150 }).map((minutes) => new ExpireAfter(minutes)),
  fc.constant(null).map(() => new Renew()),
  fc
    .tuple(fc.nat({ max: 3 }), fc.integer({ min: 1, max: 200 }))
    .map(([key, amount]) => new Grant(key, amount)),
  fc.constantFrom<PlanId>('free', 'starter', 'pro', 'enterprise').map((plan) => new SetPlan(plan)),
];

describeEachDatabase('credit ledger model', ({ db }) => {
  it(`matches the model after every step of ${RUNS} random sequences`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<PlanId>('free', 'starter', 'pro', 'enterprise'),
        fc.commands(commands, { maxCommands: 40, size: 'medium' }),
        async (plan, sequence) => {
          const setup = async () => {
            const clock = testClock();
            const ledger = createCreditLedger({ db: db(), now: clock.now });
            const userId = await userWithAccount(db(), ledger, { plan });
            const account = await ledger.balance(userId);
            const model: Model = {
              plan,
              unlimited: account.unlimited,
              balance: PLANS[plan].monthlyCredits ?? 0,
              held: 0,
              renewsAt: account.renewsAt.getTime(),
              holds: [],
              grants: new Map(),
            };
            return { model, real: { db: db(), ledger, clock, userId, runPrefix: uniqueId('run') } };
          };
          await fc.asyncModelRun(setup, sequence);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

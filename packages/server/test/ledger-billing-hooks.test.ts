import {
  type BillingHooks,
  createEngine,
  createNodeRegistry,
  defineNode,
  InsufficientCreditsError,
  NonRetryableError,
} from '@vidgenie/engine';
import { beforeEach, expect, it } from 'vitest';
import { z } from 'zod';
import { type CreditLedger, createCreditLedger } from '../src/ledger/credit-ledger.ts';
import { createLedgerBillingHooks } from '../src/ledger/ledger-billing-hooks.ts';
import {
  entrySums,
  type TestClock,
  testClock,
  uniqueId,
  userWithAccount,
} from './support/ledger-fixtures.ts';
import { describeEachDatabase } from './support/test-databases.ts';

const HOUR = 3_600_000;

/** A node that costs `config.cost` credits and fails when its id is in `failing`. */
function paidNode(failing: ReadonlySet<string>) {
  return defineNode({
    type: 'paid',
    version: 1,
    input: z.object({ in: z.string().optional() }),
    output: z.object({ out: z.string() }),
    config: z.object({ cost: z.number().int() }),
    estimateCost: ({ config }) => config.cost,
    run: ({ nodeId }) => {
      if (failing.has(nodeId)) throw new NonRetryableError(`${nodeId} failed`);
      return { out: nodeId };
    },
  });
}

/** script (1) → image (3) → video (10), and a free node on its own: 14 credits. */
const graph = {
  version: 1,
  nodes: [
    { id: 'script', type: 'paid', config: { cost: 1 } },
    { id: 'image', type: 'paid', config: { cost: 3 } },
    { id: 'video', type: 'paid', config: { cost: 10 } },
    { id: 'free', type: 'paid', config: { cost: 0 } },
  ],
  edges: [
    { id: 'e1', source: 'script', sourceHandle: 'out', target: 'image', targetHandle: 'in' },
    { id: 'e2', source: 'image', sourceHandle: 'out', target: 'video', targetHandle: 'in' },
  ],
};

describeEachDatabase('ledger billing hooks', ({ db }) => {
  let clock: TestClock;
  let ledger: CreditLedger;
  beforeEach(() => {
    clock = testClock();
    ledger = createCreditLedger({ db: db(), now: clock.now });
  });
  const engineFor = (userId: string, failing: readonly string[] = []) =>
    createEngine({
      registry: createNodeRegistry([paidNode(new Set(failing))]),
      billing: createLedgerBillingHooks({ ledger, userId, holdTtlMs: HOUR }),
      retry: { maxAttempts: 1 },
    });
  const holdOf = (runId: string) =>
    db().selectFrom('credit_holds').selectAll().where('run_id', '=', runId).executeTakeFirst();

  it('a completed run charges the sum of its nodes and releases its hold', async () => {
    const userId = await userWithAccount(db(), ledger);
    const handle = engineFor(userId).start(graph);
    const outcome = await handle.result;

    expect(outcome.status).toBe('completed');
    expect(outcome.cost).toMatchObject({ reserved: 14, captured: 14, released: 0 });
    expect(await ledger.balance(userId)).toMatchObject({
      balance: 86,
      held: 0,
      available: 86,
      usedToday: 14,
    });
    expect(await holdOf(handle.runId)).toMatchObject({
      amount: 14,
      captured: 14,
      returned: 0,
      state: 'released',
    });
    const history = await ledger.history(userId);
    expect(history.entries.map((e) => [e.kind, e.nodeId, e.amount]).reverse()).toEqual([
      ['renewal', null, 100],
      ['reserve', null, 14],
      ['capture', 'script', 1],
      ['capture', 'image', 3],
      ['capture', 'video', 10],
      ['release', null, 0],
    ]);
  });

  it('a failed node is not charged; the hold returns what was not captured', async () => {
    const userId = await userWithAccount(db(), ledger);
    const handle = engineFor(userId, ['image']).start(graph);
    const outcome = await handle.result;

    expect(outcome.status).toBe('failed');
    expect(outcome.cost).toMatchObject({ reserved: 14, captured: 1, released: 13 });
    expect(await ledger.balance(userId)).toMatchObject({ balance: 99, held: 0, available: 99 });
    expect(await holdOf(handle.runId)).toMatchObject({ captured: 1, returned: 13, state: 'released' });
    const { kinds } = await entrySums(db(), userId);
    expect(kinds).toEqual({ renewal: 1, reserve: 1, capture: 1, release: 1 });
  });

  it('refuses a run the balance cannot cover with InsufficientCreditsError { required, available }', async () => {
    const userId = await userWithAccount(db(), ledger);
    await ledger.reserve({ userId, runId: uniqueId('run'), amount: 95, expiresInMs: HOUR });
    const outcome = await engineFor(userId).run(graph);

    expect(outcome.status).toBe('failed');
    if (outcome.status !== 'failed') return;
    expect(outcome.error).toBeInstanceOf(InsufficientCreditsError);
    expect(outcome.error.code).toBe('INSUFFICIENT_CREDITS');
    expect(outcome.error.details()).toEqual({ required: 14, available: 5 });
    expect(outcome.outputs).toEqual({});
    expect(await ledger.balance(userId)).toMatchObject({ balance: 100, held: 95 });
  });

  it('repeated calls (a resumed run) neither hold nor charge nor return twice', async () => {
    const userId = await userWithAccount(db(), ledger);
    const hooks: BillingHooks = createLedgerBillingHooks({ ledger, userId, holdTtlMs: HOUR });
    const runId = uniqueId('run');
    const reserve = { runId, amount: 20, breakdown: { a: 20 }, idempotencyKey: runId };
    const { reservationId } = await hooks.reserve(reserve);
    expect(await hooks.reserve(reserve)).toEqual({ reservationId });
    const capture = { runId, reservationId, nodeId: 'a', amount: 8, idempotencyKey: `${runId}:a` };
    await hooks.capture(capture);
    await hooks.capture(capture);
    const release = { runId, reservationId, amount: 12, idempotencyKey: `${runId}:release` };
    await hooks.release(release);
    await hooks.release(release);
    expect(await ledger.balance(userId)).toMatchObject({ balance: 92, held: 0 });
    expect((await entrySums(db(), userId)).kinds).toEqual({ renewal: 1, reserve: 1, capture: 1, release: 1 });
  });

  it('a capture after the sweeper expired the hold stops the run instead of working for free', async () => {
    const userId = await userWithAccount(db(), ledger);
    const hooks = createLedgerBillingHooks({ ledger, userId, holdTtlMs: 1000 });
    const runId = uniqueId('run');
    const { reservationId } = await hooks.reserve({
      runId,
      amount: 20,
      breakdown: {},
      idempotencyKey: runId,
    });
    clock.advance(1000);
    await ledger.sweepExpiredHolds();
    await expect(
      hooks.capture({ runId, reservationId, nodeId: 'a', amount: 5, idempotencyKey: `${runId}:a` }),
    ).rejects.toThrow(NonRetryableError);
    expect(await ledger.balance(userId)).toMatchObject({ balance: 100, held: 0 });
  });
});

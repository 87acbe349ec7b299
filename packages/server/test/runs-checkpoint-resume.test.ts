import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type BillingHooks,
  type CheckpointStore,
  createEngine,
  createNodeRegistry,
  defineNode,
  type NodeContext,
  StaleFenceError,
} from '@vidgenie/engine';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { migrateToLatest } from '../src/db/migrate.ts';
import { type Database, openDatabase } from '../src/db/open-database.ts';
import { createCreditLedger } from '../src/ledger/credit-ledger.ts';
import { createLedgerBillingHooks } from '../src/ledger/ledger-billing-hooks.ts';
import { createSqlCheckpointStore } from '../src/runs/sql-checkpoint-store.ts';
import { testClock, uniqueId, userWithAccount } from './support/ledger-fixtures.ts';
import { describeEachDatabase } from './support/test-databases.ts';

const HOUR = 3_600_000;

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

type StepCtx = NodeContext<{ in?: string | undefined }, { cost: number }, unknown, { jobId: string }>;
type Impl = (ctx: StepCtx) => Promise<{ out: string }> | { out: string };

/** a (2 credits) → b (3) → c (1). */
const graph = {
  version: 1,
  nodes: [
    { id: 'a', type: 'step', config: { cost: 2 } },
    { id: 'b', type: 'step', config: { cost: 3 } },
    { id: 'c', type: 'step', config: { cost: 1 } },
  ],
  edges: [
    { id: 'ab', source: 'a', sourceHandle: 'out', target: 'b', targetHandle: 'in' },
    { id: 'bc', source: 'b', sourceHandle: 'out', target: 'c', targetHandle: 'in' },
  ],
};

/** One worker process: an engine over `store`, recording which nodes ran. */
function worker(args: { store: CheckpointStore; billing: BillingHooks; impls?: Record<string, Impl> }) {
  const ran: string[] = [];
  const step = defineNode({
    type: 'step',
    version: 1,
    input: z.object({ in: z.string().optional() }),
    output: z.object({ out: z.string() }),
    config: z.object({ cost: z.number().int().default(0) }),
    state: z.object({ jobId: z.string() }),
    estimateCost: ({ config }) => config.cost,
    run: (ctx) => {
      ran.push(ctx.nodeId);
      return (args.impls?.[ctx.nodeId] ?? (({ nodeId, input }) => ({ out: `${nodeId}(${input.in ?? ''})` })))(
        ctx,
      );
    },
  });
  const engine = createEngine({
    registry: createNodeRegistry([step]),
    store: args.store,
    billing: args.billing,
    retry: { maxAttempts: 1 },
  });
  return { engine, ran };
}

/** A worker's view of the database: its own connection(s), store and ledger. */
function services(database: Database, userId: string) {
  const ledger = createCreditLedger({ db: database.db, now: testClock().now });
  return {
    store: createSqlCheckpointStore({ db: database.db }),
    ledger,
    billing: createLedgerBillingHooks({ ledger, userId, holdTtlMs: HOUR }),
  };
}

/** Starts the graph in a worker whose node `b` saves a provider job id, then never finishes. */
async function startAndHangInB(database: Database, userId: string, runId: string) {
  const stateSaved = deferred();
  const gate = deferred<string>();
  const first = worker({
    ...services(database, userId),
    impls: {
      b: async (ctx) => {
        await ctx.state.set({ jobId: 'job-42' });
        stateSaved.resolve();
        return { out: await gate.promise };
      },
    },
  });
  const handle = first.engine.start(graph, { runId });
  await stateSaved.promise;
  return { ran: first.ran, result: handle.result, finishB: (out: string) => gate.resolve(out) };
}

describeEachDatabase('sql checkpoint store: crash and resume', ({ lane, database }) => {
  /**
   * A way to open the lane's database again, as a new process would. PostgreSQL: a new pool on the
   * same database. PGlite: a data folder on disk (the suite's own is in memory), closed and reopened.
   */
  let dataDir: string | undefined;
  beforeAll(async () => {
    if (lane === 'pglite') dataDir = await mkdtemp(join(tmpdir(), 'vidgenie-resume-'));
  });
  afterAll(async () => {
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });
  const open = async (): Promise<Database> => {
    if (dataDir !== undefined) {
      const opened = await openDatabase({ kind: 'pglite', dataDir });
      await migrateToLatest(opened.db);
      return opened;
    }
    const url = database().url;
    if (url === undefined) throw new Error('the PostgreSQL lane has a URL');
    return openDatabase({ kind: 'postgres', url, maxConnections: 5 });
  };

  it('a run resumed by a new engine on a new connection skips completed nodes, reuses state, charges once', async () => {
    const runId = uniqueId('run');
    const setup = await open();
    const userId = await userWithAccount(setup.db, services(setup, 'none').ledger);

    // Process 1 completes `a`, saves b's job id, then dies: its connections go away.
    const crashed = await startAndHangInB(setup, userId, runId);
    crashed.result.catch(() => {}); // it may fail once its database is closed; nobody awaits it
    expect(crashed.ran).toEqual(['a', 'b']);
    const before = await services(setup, userId).store.loadRun({ runId });
    expect(before?.nodes.map((n) => [n.nodeId, n.status])).toEqual([
      ['a', 'completed'],
      ['b', 'running'],
    ]);
    await setup.close();

    // Process 2: a new connection, store, ledger and engine.
    const restarted = await open();
    try {
      const second = services(restarted, userId);
      let seenState: unknown;
      const resumed = worker({
        ...second,
        impls: {
          b: (ctx) => {
            seenState = ctx.state.get();
            return { out: `polled ${ctx.state.get()?.jobId ?? 'nothing'}` };
          },
        },
      });
      const outcome = await resumed.engine.resume(runId).result;

      expect(outcome.status).toBe('completed');
      expect(resumed.ran).toEqual(['b', 'c']);
      expect(seenState).toEqual({ jobId: 'job-42' });
      expect(outcome.outputs).toEqual({
        a: { out: 'a()' },
        b: { out: 'polled job-42' },
        c: { out: 'c(polled job-42)' },
      });
      const stored = await second.store.loadRun({ runId });
      expect(stored?.run.status).toBe('completed');
      expect(stored?.fence).toBe(2);
      expect(stored?.nodes.every((n) => n.status === 'completed' && n.captured)).toBe(true);

      // Each node was charged once: 2 + 3 + 1, and the hold is closed.
      const captures = await restarted.db
        .selectFrom('credit_captures')
        .innerJoin('credit_holds', 'credit_holds.id', 'credit_captures.hold_id')
        .select(['credit_captures.node_id', 'credit_captures.amount'])
        .where('credit_holds.run_id', '=', runId)
        .orderBy('credit_captures.node_id')
        .execute();
      expect(captures).toEqual([
        { node_id: 'a', amount: 2 },
        { node_id: 'b', amount: 3 },
        { node_id: 'c', amount: 1 },
      ]);
      expect(await second.ledger.balance(userId)).toMatchObject({ held: 0, balance: 94 });
    } finally {
      await restarted.close();
    }
  });

  if (lane !== 'postgres') return;

  it('a frozen worker that wakes after the takeover writes nothing that counts', async () => {
    const runId = uniqueId('run');
    const first = await open();
    const second = await open();
    try {
      const userId = await userWithAccount(first.db, services(first, 'none').ledger);
      const zombie = await startAndHangInB(first, userId, runId);

      const resumed = worker(services(second, userId));
      const outcome = await resumed.engine.resume(runId).result;
      expect(outcome.status).toBe('completed');
      expect(resumed.ran).toEqual(['b', 'c']);

      // The first worker was only frozen: its node `b` finishes now and it tries to write.
      zombie.finishB('late output');
      const late = await zombie.result;
      expect(late.status).toBe('failed');
      if (late.status === 'failed') expect(late.error).toBeInstanceOf(StaleFenceError);

      const stored = await services(second, userId).store.loadRun({ runId });
      expect(stored?.run.status).toBe('completed');
      expect(stored?.nodes.find((n) => n.nodeId === 'b')?.output).toEqual({ out: 'b(a())' });
      expect(await services(second, userId).ledger.balance(userId)).toMatchObject({ held: 0, balance: 94 });
    } finally {
      await first.close();
      await second.close();
    }
  });
});

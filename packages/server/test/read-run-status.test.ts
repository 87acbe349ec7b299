import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { createCreditLedger } from '../src/ledger/credit-ledger.ts';
import { readRunStatus } from '../src/runs/read-run-status.ts';
import { countStatements } from './support/count-statements.ts';
import { expectApiError, insertUser, uniqueId, userWithAccount } from './support/ledger-fixtures.ts';
import { describeEachDatabase } from './support/test-databases.ts';

const GRAPH = {
  version: 1,
  nodes: [
    { id: 'image', type: 'image', config: {} },
    { id: 'video', type: 'video', config: {} },
    { id: 'output', type: 'output', config: {} },
  ],
  edges: [],
};

/** Not a queued run: its status needs no queue position. */
const runs = {
  queuePosition: async () => {
    throw new Error('a running run has no queue position');
  },
};

describeEachDatabase("reading a run's status", ({ db }) => {
  /** A running run of a user with a 14-credit hold: the image done and charged, the video failed. */
  const insertRun = async () => {
    const ledger = createCreditLedger({ db: db() });
    const userId = await userWithAccount(db(), ledger, { balance: 100 });
    const runId = uniqueId('run');
    const hold = await ledger.reserve({ userId, runId, amount: 14, expiresInMs: 3_600_000 });
    await ledger.capture({ holdId: hold.id, nodeId: 'image', amount: 3 });
    await sql`insert into runs (id, user_id, status, graph, estimated_cost, hold_id, started_at)
              values (${runId}, ${userId}, 'running', ${JSON.stringify(GRAPH)}::json, 14, ${hold.id}, now())`.execute(
      db(),
    );
    const events = [
      ['node.started', { nodeId: 'image', attempt: 1, at: 1_000 }],
      ['node.progress', { nodeId: 'image', fraction: 0.5, message: 'drawing\u0000 half' }],
      ['cost.captured', { nodeId: 'image', amount: 3 }],
      [
        'node.completed',
        { nodeId: 'image', output: { image: { key: 'img.png' } }, durationMs: 900, at: 1_900 },
      ],
      ['node.started', { nodeId: 'video', attempt: 1, at: 2_000 }],
      ['node.failed', { nodeId: 'video', error: { code: 'PROVIDER_ERROR', message: 'no' }, at: 2_500 }],
    ] as const;
    let seq = 0;
    for (const [type, payload] of events) {
      seq++;
      await sql`insert into run_events (run_id, seq, type, payload)
                values (${runId}, ${seq}, ${type}, ${JSON.stringify({ type, seq, ...payload })}::json)`.execute(
        db(),
      );
    }
    return { userId, runId };
  };

  it('folds the events into each node and reads the hold, in one statement', async () => {
    const { userId, runId } = await insertRun();
    const { db: counted, count } = countStatements(db());
    const view = await readRunStatus({ db: counted, runs }, { userId, runId });
    expect(count()).toBe(1);
    expect(view).toMatchObject({
      runId,
      status: 'running',
      queuePosition: null,
      estimatedCost: 14,
      cost: { reserved: 14, captured: 3, released: null },
      lastEventSeq: 6,
      outputs: { image: { image: { key: 'img.png' } } },
      graph: GRAPH,
    });
    expect(view.nodes).toEqual([
      expect.objectContaining({
        nodeId: 'image',
        status: 'completed',
        progress: 1,
        message: 'drawing\u0000 half',
        attempt: 1,
        startedAt: new Date(1_000).toISOString(),
        endedAt: new Date(1_900).toISOString(),
        durationMs: 900,
        cost: 3,
        output: { image: { key: 'img.png' } },
      }),
      expect.objectContaining({
        nodeId: 'video',
        status: 'failed',
        error: { code: 'PROVIDER_ERROR', message: 'no' },
        cost: 0,
      }),
      expect.objectContaining({ nodeId: 'output', status: 'pending', progress: 0 }),
    ]);
  });

  it('reads a run with no hold and no event yet', async () => {
    const userId = await insertUser(db());
    const runId = uniqueId('run');
    await sql`insert into runs (id, user_id, status, graph, estimated_cost, started_at)
              values (${runId}, ${userId}, 'running', ${JSON.stringify(GRAPH)}::json, 0, now())`.execute(
      db(),
    );
    const view = await readRunStatus({ db: db(), runs }, { userId, runId });
    expect(view).toMatchObject({ cost: { reserved: 0, captured: 0, released: null }, lastEventSeq: 0 });
    expect(view.nodes.map((node) => node.status)).toEqual(['pending', 'pending', 'pending']);
  });

  it("answers 404 for another user's run and for a missing one", async () => {
    const { runId } = await insertRun();
    const stranger = await insertUser(db());
    await expectApiError(readRunStatus({ db: db(), runs }, { userId: stranger, runId }), 'NOT_FOUND');
    await expectApiError(
      readRunStatus({ db: db(), runs }, { userId: stranger, runId: uniqueId('run') }),
      'NOT_FOUND',
    );
  });
});

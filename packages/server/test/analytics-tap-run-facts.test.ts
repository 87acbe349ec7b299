/**
 * The run facts tap reads a run's row once, at its first event heard, unless the process executes
 * the run and has the row at hand from its lease (`localRun`): then it reads nothing.
 */
import { createProviderRegistry, localProviders } from '@vidgenie/nodes';
import { sql } from 'kysely';
import pino from 'pino';
import { expect, it } from 'vitest';
import { type RunFact, type RunFactsRow, tapRunFacts } from '../src/analytics/tap-run-facts.ts';
import { createRunEventBus, type StoredRunEvent } from '../src/runs/run-event-bus.ts';
import { insertUser, uniqueId } from './support/ledger-fixtures.ts';
import { describeEachDatabase } from './support/test-databases.ts';

const graph = {
  version: 1,
  nodes: [
    { id: 'p', type: 'prompt', config: { text: 'a red fox' } },
    { id: 'i', type: 'image', config: {} },
  ],
  edges: [],
};

const started = (runId: string, seq: number, nodeId: string): StoredRunEvent => ({
  seq,
  type: 'node.started',
  payload: { type: 'node.started', runId, seq, at: 1_000 + seq, nodeId, nodeType: 'image', attempt: 1 },
});

describeEachDatabase('run facts tap', ({ db }) => {
  it("takes a local run's row from the lease and reads only other runs' rows", async () => {
    const userId = await insertUser(db());
    const storedRun = uniqueId('run');
    await sql`insert into runs (id, user_id, status, graph, estimated_cost, lease_owner, lease_expires_at)
              values (${storedRun}, ${userId}, 'running', ${JSON.stringify(graph)}, 9, 'worker-b', now() + interval '1 minute')`.execute(
      db(),
    );
    const localRun = uniqueId('run'); // no row at all: the tap must not need one
    const local: RunFactsRow = {
      userId,
      graph,
      estimatedCost: 4,
      parentRunId: null,
      createdAt: new Date('2026-01-02T03:04:00Z'),
      startedAt: new Date('2026-01-02T03:04:05Z'),
      leaseOwner: 'worker-a',
    };
    const asked: string[] = [];
    const heard: RunFact[] = [];
    const bus = createRunEventBus();
    const tap = tapRunFacts({
      bus,
      db: db(),
      providers: createProviderRegistry(localProviders()),
      log: pino({ level: 'silent' }),
      workerId: 'worker-a',
      localRun: (runId) => {
        asked.push(runId);
        return runId === localRun ? local : undefined;
      },
      listeners: [(facts) => void heard.push(...facts)],
    });
    bus.publish(localRun, [started(localRun, 1, 'i')]);
    bus.publish(storedRun, [started(storedRun, 1, 'i')]);
    await tap.stop();

    expect(asked).toEqual([localRun, storedRun]);
    const byRun = new Map(heard.map((fact) => [fact.run.runId, fact]));
    expect(byRun.get(localRun)).toMatchObject({
      run: { userId, estimatedCost: 4, nodeCount: 2, promptLength: 9, rerun: false, local: true },
      node: { id: 'i', type: 'image', provider: expect.any(String) },
    });
    // The other run's row, read: another worker executes it, so it is not counted here.
    expect(byRun.get(storedRun)).toMatchObject({
      run: { userId, estimatedCost: 9, nodeCount: 2, promptLength: 9, local: false },
    });
  });
});

import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { createAnalyticsBatcher } from '../src/analytics/analytics-batcher.ts';
import { runAnalyticsListener } from '../src/analytics/run-analytics-listener.ts';
import type { RunFact } from '../src/analytics/tap-run-facts.ts';
import { createLogger } from '../src/log/create-logger.ts';
import { insertUser, uniqueId } from './support/ledger-fixtures.ts';
import { describeEachDatabase } from './support/test-databases.ts';

describeEachDatabase('analytics batcher', ({ db }) => {
  const rowsOf = async (marker: string) => {
    const { rows } = await sql<{ call: number; tx: string }>`
      select (properties->>'call')::integer as call, xmin::text as tx from analytics_events
       where properties->>'marker' = ${marker} order by (properties->>'call')::integer`.execute(db());
    return rows;
  };
  const event = (marker: string, call: number) => ({
    name: 'test.batched' as const,
    userId: null,
    properties: { marker, call },
  });

  it('events handed in while an insert is in flight share the next insert; each call resolves once stored', async () => {
    const record = createAnalyticsBatcher(db());
    const marker = uniqueId('batch');
    const calls = [0, 1, 2, 3].map((call) => record([event(marker, call)]));
    await Promise.all(calls);
    const rows = await rowsOf(marker);
    expect(rows.map((row) => row.call)).toEqual([0, 1, 2, 3]);
    // The first call went alone; the three made while it was in flight went together.
    expect(rows[0]?.tx).not.toBe(rows[1]?.tx);
    expect(new Set(rows.slice(1).map((row) => row.tx)).size).toBe(1);
  });

  it('with a delay, events wait for company until the batch is full, then share one insert', async () => {
    // A delay no test would wait out: only a full batch can start the insert.
    const record = createAnalyticsBatcher(db(), { delayMs: 600_000, maxEvents: 4 });
    const marker = uniqueId('batch');
    const early = record([event(marker, 0)]);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(await rowsOf(marker)).toEqual([]); // still waiting
    await Promise.all([early, record([event(marker, 1)]), record([event(marker, 2), event(marker, 3)])]);
    const rows = await rowsOf(marker);
    expect(rows.map((row) => row.call)).toEqual([0, 1, 2, 3]);
    expect(new Set(rows.map((row) => row.tx)).size).toBe(1);
  });

  it("one call's refused event fails that call only; the others are stored", async () => {
    const record = createAnalyticsBatcher(db());
    const marker = uniqueId('batch');
    const first = record([event(marker, 0)]);
    const good = record([event(marker, 1)]);
    const bad = record([
      { name: 'test.batched', userId: null, properties: { marker, call: 2, prompt: 'secret words' } },
    ]);
    const alsoGood = record([event(marker, 3)]);
    await expect(bad).rejects.toThrow(/"prompt" refused/);
    await Promise.all([first, good, alsoGood]);
    expect((await rowsOf(marker)).map((row) => row.call)).toEqual([0, 1, 3]);
  });
  it("records the runs this machine executes, not another machine's relayed here", async () => {
    const listen = runAnalyticsListener({ db: db(), log: createLogger({ level: 'silent' }) });
    const userId = await insertUser(db());
    const fact = (runId: string, local: boolean): RunFact =>
      ({
        run: {
          runId,
          userId,
          estimatedCost: 3,
          nodeCount: 5,
          promptLength: 10,
          rerun: false,
          local,
        },
        event: {
          type: 'run.completed',
          runId,
          seq: 9,
          at: Date.now(),
          durationMs: 1_000,
          captured: 3,
          saved: 0,
        },
        node: undefined,
        durationMs: 1_000,
      }) as unknown as RunFact;
    const here = uniqueId('run_here');
    const elsewhere = uniqueId('run_elsewhere');
    // It returns at once (the tap's other listeners do not wait for the insert); flush waits.
    expect(listen([fact(here, true), fact(elsewhere, false)])).toBeUndefined();
    await listen.flush();
    const { rows } = await sql<{ run: string }>`
      select properties->>'workflowId' as run from analytics_events
       where name = 'workflow.completed' and properties->>'workflowId' in (${here}, ${elsewhere})`.execute(
      db(),
    );
    expect(rows.map((row) => row.run)).toEqual([here]);
  });
});

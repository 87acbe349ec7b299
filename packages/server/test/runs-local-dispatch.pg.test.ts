import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RUN_QUEUE_NAME } from '../src/runs/pg-boss-dispatch.ts';
import { acceptTemplateRun } from './support/ops-fixtures.ts';
import { createTestApp, type TestApp } from './support/test-app.ts';
import { describePostgres } from './support/test-databases.ts';

/**
 * A process that accepts and executes runs (`vidgenie serve` with `DATABASE_URL`) takes a run it
 * has a free slot for itself, with no queue job; a run it has no slot for goes through pg-boss
 * for any worker to take. Both run under a lease.
 */
describePostgres('runs taken by the process that accepted them', ({ database }) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp(database(), {
      env: {
        DATABASE_URL: database().url,
        VIDGENIE_DATA_DIR: mkdtempSync(join(tmpdir(), 'vidgenie-local-dispatch-')),
        VIDGENIE_WORKER_CONCURRENCY: '2',
        VIDGENIE_LEASE_SECONDS: '2',
      },
    });
  });
  afterAll(async () => {
    await app?.services.close({ graceMs: 5_000 });
  });

  const execute = acceptTemplateRun;

  /** The pg-boss jobs ever sent for a run (waiting, active, completed or archived). */
  const jobsOf = async (runId: string) => {
    const { rows } = await sql<{ jobs: number }>`
      select (select count(*) from pgboss.job where name = ${RUN_QUEUE_NAME} and data->>'runId' = ${runId})
           + (select count(*) from pgboss.archive where name = ${RUN_QUEUE_NAME} and data->>'runId' = ${runId})
           as jobs`.execute(app.services.db);
    return Number(rows[0]?.jobs ?? 0);
  };

  const waitForEnd = async (runId: string) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const row = await app.services.db
        .selectFrom('runs')
        .select(['status', 'lease_epoch', 'dispatched_at'])
        .where('id', '=', runId)
        .executeTakeFirstOrThrow();
      if (row.status !== 'queued' && row.status !== 'running') return row;
      if (Date.now() > deadline) throw new Error(`timed out waiting for run ${runId}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  it('a run with a free slot here is executed here, leased, with no queue job', async () => {
    const user = await app.signUp();
    const runId = await execute(user, 'a red kite over the downs');
    const row = await waitForEnd(runId);
    expect(row.status).toBe('completed');
    expect(row.lease_epoch).toBe(1); // leased once, by this process
    expect(row.dispatched_at).not.toBeNull(); // handed over at accept: the sweep leaves it alone
    expect(await jobsOf(runId)).toBe(0);
  });

  it('runs beyond this process’s slots go through the queue, and every run completes', async () => {
    const user = await app.signUp();
    const runIds: string[] = [];
    // One after the other, so that the first two hold both slots when the rest arrive.
    for (let i = 1; i <= 4; i++) runIds.push(await execute(user, `a lantern on a jetty ${i}`));
    const rows = await Promise.all(runIds.map(waitForEnd));
    expect(rows.map((row) => row.status)).toEqual(runIds.map(() => 'completed'));
    const jobs = await Promise.all(runIds.map(jobsOf));
    expect(jobs.slice(0, 2)).toEqual([0, 0]);
    expect(jobs.slice(2).every((count) => count >= 1)).toBe(true);
  });
});

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import PgBoss from 'pg-boss';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RUN_QUEUE_NAME } from '../src/runs/pg-boss-dispatch.ts';
import { acceptTemplateRun } from './support/ops-fixtures.ts';
import { readSseUntil } from './support/read-sse.ts';
import { createTestApp, type TestApp, type TestUser } from './support/test-app.ts';
import { describePostgres } from './support/test-databases.ts';

/**
 * Distributed mode on a real PostgreSQL: an API process that executes nothing, two worker
 * processes' services (in this test process), pg-boss between them, leases with fencing, and
 * events and cancels carried by LISTEN/NOTIFY.
 */
describePostgres('distributed runs', ({ database }) => {
  let api: TestApp;
  let workers: TestApp[];
  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vidgenie-distributed-'));
    const env = (work: boolean) => ({
      DATABASE_URL: database().url,
      VIDGENIE_DATA_DIR: dataDir,
      VIDGENIE_RUN_WORKER: String(work),
      VIDGENIE_LEASE_SECONDS: '2',
    });
    // One after the other: the first creates the shared vault key file, the others read it.
    api = await createTestApp(database(), { env: env(false) });
    workers = [];
    for (let i = 0; i < 2; i++) workers.push(await createTestApp(database(), { env: env(true) }));
  });
  afterAll(async () => {
    await Promise.all([api, ...(workers ?? [])].map((t) => t?.services.close({ graceMs: 5_000 })));
  });

  const execute = acceptTemplateRun;

  const statusOf = async (runId: string) =>
    (
      await api.services.db
        .selectFrom('runs')
        .select(['status', 'lease_owner', 'lease_epoch'])
        .where('id', '=', runId)
        .executeTakeFirstOrThrow()
    ).status;

  const waitFor = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  const waitForEnd = (runId: string) =>
    waitFor(`run ${runId} to end`, async () => {
      const status = await statusOf(runId);
      return status === 'queued' || status === 'running' ? undefined : status;
    });

  /** The stored events of a run, checked gap-free from 1. */
  const storedEvents = async (runId: string) => {
    const rows = await api.services.db
      .selectFrom('run_events')
      .select(['seq', 'type', 'payload'])
      .where('run_id', '=', runId)
      .orderBy('seq')
      .execute();
    expect(rows.map((row) => row.seq)).toEqual(rows.map((_, i) => i + 1));
    return rows;
  };

  const readSseSeqs = async (user: TestUser, runId: string) => {
    const response = await user.request('GET', `/api/workflow/runs/${runId}/events`);
    expect(response.status).toBe(200);
    const text = await response.text();
    return text
      .split('\n')
      .filter((line) => line.startsWith('id:'))
      .map((line) => Number(line.slice(3).trim()));
  };

  const ranOn = (runId: string) =>
    [api, ...workers].map((t) =>
      t.logLines.some((line) => line.includes(runId) && line.includes('"msg":"run ended"')),
    );

  it('the workers execute the runs, the API process none; its run and dashboard streams hear them through NOTIFY', async () => {
    const user = await api.signUp();
    const dashboard = await user.request('GET', '/api/events');
    const runIds = await Promise.all([1, 2, 3, 4].map((i) => execute(user, `a lighthouse at dusk ${i}`)));
    const streams = await Promise.all(runIds.map((runId) => readSseSeqs(user, runId)));
    // The dashboard stream on the API machine hears each run finish on its worker (NOTIFY).
    const finished = await readSseUntil(
      dashboard,
      (events) => events.filter((event) => event.event === 'run.finished').length === runIds.length,
    );
    expect(
      finished
        .filter((event) => event.event === 'run.finished')
        .map((event) => (JSON.parse(event.data) as { runId: string }).runId)
        .sort(),
    ).toEqual([...runIds].sort());
    for (const [i, runId] of runIds.entries()) {
      expect(await waitForEnd(runId)).toBe('completed');
      const events = await storedEvents(runId);
      expect(streams[i]).toEqual(events.map((event) => event.seq));
      expect(events.at(-1)?.type).toBe('run.completed');
      const [onApi, ...onWorkers] = ranOn(runId);
      expect(onApi).toBe(false);
      expect(onWorkers.filter(Boolean)).toHaveLength(1);
    }
    const leases = await api.services.db
      .selectFrom('runs')
      .select(['lease_owner', 'lease_expires_at'])
      .where('id', 'in', runIds)
      .execute();
    expect(leases.every((row) => row.lease_owner === null && row.lease_expires_at === null)).toBe(true);
  });

  it('at most 5 runs of one user hold a lease at once across every worker; the others wait and then run', async () => {
    const user = await api.signUp();
    const runIds = await Promise.all(
      [1, 2, 3, 4, 5, 6, 7].map((i) => execute(user, `a paper boat on a river ${i}`)),
    );
    let most = 0;
    let done = false;
    const sampler = (async () => {
      while (!done) {
        const { rows } = await sql<{ leased: number }>`
          select count(*)::integer as leased from runs
           where user_id = ${user.id} and status = 'running' and lease_expires_at > now()`.execute(
          api.services.db,
        );
        most = Math.max(most, rows[0]?.leased ?? 0);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const statuses = await Promise.all(runIds.map(waitForEnd));
    done = true;
    await sampler;
    expect(statuses).toEqual(runIds.map(() => 'completed'));
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(5);
  });

  it('a cancel asked on the API machine stops the run on its worker', async () => {
    const user = await api.signUp();
    const runId = await execute(user, 'a hot air balloon over hills');
    await waitFor('the lease', async () => {
      const row = await api.services.db
        .selectFrom('runs')
        .select('lease_owner')
        .where('id', '=', runId)
        .executeTakeFirstOrThrow();
      return row.lease_owner ?? undefined;
    });
    const cancelled = await user.request('POST', `/api/workflow/runs/${runId}/cancel`);
    expect([200, 202]).toContain(cancelled.status);
    const status = await waitForEnd(runId);
    // A run may finish its last node before the cancel lands; it never ends failed or stays running.
    expect(['cancelled', 'completed']).toContain(status);
    const events = await storedEvents(runId);
    expect(events.at(-1)?.type).toBe(status === 'cancelled' ? 'run.cancelled' : 'run.completed');
    const balance = (await (await user.request('GET', '/api/credits/balance')).json()) as { held: number };
    expect(balance.held).toBe(0);
  });

  it('a worker whose lease was taken writes nothing more; the run completes once, each node charged once', async () => {
    const user = await api.signUp();
    const runId = await execute(user, 'a snail crossing a mossy log');
    const first = await waitFor('the lease', async () => {
      const row = await api.services.db
        .selectFrom('runs')
        .select(['lease_owner', 'lease_epoch'])
        .where('id', '=', runId)
        .executeTakeFirstOrThrow();
      return row.lease_owner === null ? undefined : row;
    });
    // Another "worker" takes the run over (as one would after the owner froze past its lease).
    await sql`update runs set lease_owner = 'thief', lease_epoch = lease_epoch + 1,
                lease_expires_at = now() + interval '3 seconds' where id = ${runId}`.execute(api.services.db);
    // The thief never runs it: once its lease lapses, the sweep sends the run to a real worker.
    expect(await waitForEnd(runId)).toBe('completed');
    const events = await storedEvents(runId);
    expect(events.filter((event) => event.type === 'run.completed')).toHaveLength(1);
    const final = await api.services.db
      .selectFrom('runs')
      .select('lease_epoch')
      .where('id', '=', runId)
      .executeTakeFirstOrThrow();
    expect(final.lease_epoch).toBeGreaterThan(first.lease_epoch + 1);
    const captures = await sql<{ node_id: string; n: number }>`
      select c.node_id, count(*)::integer as n from credit_captures c
        join credit_holds h on h.id = c.hold_id where h.run_id = ${runId} group by c.node_id`.execute(
      api.services.db,
    );
    expect(captures.rows.map((row) => row.n).every((n) => n === 1)).toBe(true);
    expect(captures.rows.map((row) => row.node_id).sort()).toEqual(['enhance', 'image', 'video']);
    // The first owner noticed and stopped without finishing the row.
    const owner = [api, ...workers].find((t) =>
      t.logLines.some(
        (line) =>
          line.includes(runId) &&
          /lease lost|run left to another worker|taken over before it could finish/.test(line),
      ),
    );
    expect(owner).toBeDefined();
  });

  it('a queue job delivered twice, at once and after the end, changes nothing', async () => {
    const user = await api.signUp();
    // Accepted while the workers are told nothing: the job is sent by hand, twice at once.
    const runId = await execute(user, 'a kite above a beach');
    const boss = new PgBoss({ connectionString: database().url, max: 2 });
    await boss.start();
    try {
      await Promise.all(
        ['dup-1', 'dup-2'].map((key) =>
          boss.send(RUN_QUEUE_NAME, { runId, userId: user.id }, { singletonKey: `${runId}:${key}` }),
        ),
      );
      expect(await waitForEnd(runId)).toBe('completed');
      const before = await storedEvents(runId);
      const entries = async () =>
        (
          await api.services.db
            .selectFrom('ledger_entries')
            .select(({ fn }) => fn.countAll<number>().as('n'))
            .where('user_id', '=', user.id)
            .executeTakeFirstOrThrow()
        ).n;
      const ledgerBefore = Number(await entries());
      await boss.send(RUN_QUEUE_NAME, { runId, userId: user.id }, { singletonKey: `${runId}:late` });
      await waitFor('the late job to be taken', async () =>
        (await boss.getQueueSize(RUN_QUEUE_NAME)) === 0 ? true : undefined,
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await storedEvents(runId)).toEqual(before);
      expect(Number(await entries())).toBe(ledgerBefore);
      const started = before
        .filter((event) => event.type === 'node.started')
        .map((event) => event.payload.nodeId);
      expect(started.sort()).toEqual(['enhance', 'image', 'output', 'prompt', 'video']);
      expect(
        [api, ...workers].filter((t) =>
          t.logLines.some((l) => l.includes(runId) && l.includes('"msg":"run ended"')),
        ),
      ).toHaveLength(1);
    } finally {
      await boss.stop({ graceful: false, close: true, wait: true });
    }
  });
});

import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { acquireRunLease, acquireRunLeases } from '../src/runs/run-lease.ts';
import { insertUser, uniqueId } from './support/ledger-fixtures.ts';
import { describeEachDatabase } from './support/test-databases.ts';

describeEachDatabase('taking a run lease', ({ db }) => {
  const insertRun = async (userId: string, status: 'queued' | 'running' | 'completed' = 'queued') => {
    const id = uniqueId('run');
    await sql`insert into runs (id, user_id, status, graph, estimated_cost, finished_at)
              values (${id}, ${userId}, ${status}, '{"version":1,"nodes":[],"edges":[]}', 7,
                      ${status === 'completed' ? sql`now()` : null})`.execute(db());
    return id;
  };
  const take = (
    runId: string,
    owner: string,
    perUserLimit?: number,
    now = new Date('2026-01-02T03:04:05Z'),
  ) =>
    acquireRunLease(db(), {
      runId,
      owner,
      ttlMs: 30_000,
      now,
      ...(perUserLimit === undefined ? {} : { perUserLimit }),
    });

  it('takes a free lease: epoch +1, the run running and started, the owner and any cancel asked', async () => {
    const userId = await insertUser(db());
    const runId = await insertRun(userId);
    await sql`update runs set cancel_requested = 'stop' where id = ${runId}`.execute(db());
    const lease = await take(runId, 'worker-a');
    expect(lease).toEqual({
      kind: 'acquired',
      fence: { runId, epoch: 1 },
      userId,
      cancelRequested: 'stop',
      // What the executor needs next, read in the same statement: a fresh run has no event or checkpoint.
      run: {
        graph: { version: 1, nodes: [], edges: [] },
        holdId: null,
        parentRunId: null,
        rerunFrom: null,
        lastSeq: 0,
        lastType: null,
        checkpointed: false,
        // And what metrics and analytics would otherwise read again: the estimate and the times.
        estimatedCost: 7,
        createdAt: expect.any(Date),
        startedAt: new Date('2026-01-02T03:04:05Z'),
      },
    });
    const { rows } = await sql<{ status: string; lease_owner: string; started_at: Date; ttl: number }>`
      select status, lease_owner, started_at,
             extract(epoch from (lease_expires_at - now()))::float8 as ttl from runs where id = ${runId}`.execute(
      db(),
    );
    expect(rows[0]).toMatchObject({ status: 'running', lease_owner: 'worker-a' });
    expect(rows[0]?.started_at.toISOString()).toBe('2026-01-02T03:04:05.000Z');
    expect(rows[0]?.ttl).toBeGreaterThan(25);
  });

  it('says held while another worker holds a live lease, and takes over a lapsed one with a new epoch', async () => {
    const userId = await insertUser(db());
    const runId = await insertRun(userId);
    expect(await take(runId, 'worker-a')).toMatchObject({ kind: 'acquired', fence: { epoch: 1 } });
    expect(await take(runId, 'worker-b')).toEqual({ kind: 'held' });
    await sql`update runs set lease_expires_at = now() - interval '1 second' where id = ${runId}`.execute(
      db(),
    );
    // The taker reads the first start, not its own clock.
    expect(await take(runId, 'worker-b', undefined, new Date('2026-01-02T04:00:00Z'))).toMatchObject({
      kind: 'acquired',
      fence: { runId, epoch: 2 },
      run: { startedAt: new Date('2026-01-02T03:04:05Z') },
    });
    const { rows } = await sql<{ started_at: Date }>`select started_at from runs where id = ${runId}`.execute(
      db(),
    );
    expect(rows[0]?.started_at.toISOString()).toBe('2026-01-02T03:04:05.000Z'); // kept from the first start
  });

  it("reads a taken-over run's last stored event and whether it has a checkpoint, with the lease", async () => {
    const userId = await insertUser(db());
    const runId = await insertRun(userId);
    await sql`insert into run_events (run_id, seq, type, payload) values
                (${runId}, 1, 'run.started', '{}'), (${runId}, 2, 'node.started', '{}')`.execute(db());
    await sql`insert into run_checkpoints (run_id, format_version, status, last_seq, record)
              values (${runId}, 1, 'running', 2, '{}')`.execute(db());
    const lease = await take(runId, 'worker-a');
    expect(lease).toMatchObject({
      kind: 'acquired',
      run: { lastSeq: 2, lastType: 'node.started', checkpointed: true },
    });
  });

  it('says finished for a run that ended or does not exist', async () => {
    const userId = await insertUser(db());
    expect(await take(await insertRun(userId, 'completed'), 'worker-a')).toEqual({ kind: 'finished' });
    expect(await take(uniqueId('run'), 'worker-a')).toEqual({ kind: 'finished' });
  });

  it('gives at most the limit of live leases to one user when workers race, and the rest wait', async () => {
    const userId = await insertUser(db());
    const other = await insertUser(db());
    const runs = await Promise.all(Array.from({ length: 8 }, () => insertRun(userId)));
    const otherRun = await insertRun(other);
    const results = await Promise.all([
      ...runs.map((runId, i) => take(runId, `worker-${i % 3}`, 5)),
      take(otherRun, 'worker-0', 5),
    ]);
    const kinds = results.slice(0, 8).map((result) => result.kind);
    expect(kinds.filter((kind) => kind === 'acquired')).toHaveLength(5);
    expect(kinds.filter((kind) => kind === 'user-limit')).toHaveLength(3);
    expect(results[8]?.kind).toBe('acquired'); // another user's slots are their own
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from runs where user_id = ${userId} and lease_owner is not null`.execute(
      db(),
    );
    expect(rows[0]?.n).toBe(5);

    // A slot frees up when a run ends: the next one gets it.
    const done = results.findIndex((result) => result.kind === 'acquired');
    await sql`update runs set status = 'completed', finished_at = now(), lease_owner = null,
                              lease_expires_at = null where id = ${runs[done] ?? ''}`.execute(db());
    const waiting = runs.filter((_, i) => results[i]?.kind === 'user-limit');
    expect((await take(waiting[0] ?? '', 'worker-1', 5)).kind).toBe('acquired');
    expect((await take(waiting[1] ?? '', 'worker-1', 5)).kind).toBe('user-limit');
  });

  it('takes many leases in one statement, each as alone: a repeat is held, a user gets at most the limit', async () => {
    const userId = await insertUser(db());
    const other = await insertUser(db());
    const mine = await Promise.all(Array.from({ length: 4 }, () => insertRun(userId)));
    const theirs = await insertRun(other);
    const ended = await insertRun(other, 'completed');
    const request = (runId: string, owner: string, user?: string) => ({
      runId,
      owner,
      ttlMs: 30_000,
      now: new Date('2026-01-02T03:04:05Z'),
      perUserLimit: 3,
      ...(user === undefined ? {} : { userId: user }),
    });
    const answers = await acquireRunLeases(db(), [
      request(mine[0] ?? '', 'worker-a', userId),
      request(theirs, 'worker-a', other),
      request(mine[1] ?? '', 'worker-a'),
      request(mine[0] ?? '', 'worker-b', userId), // asked again in the same batch
      request(ended, 'worker-a', other),
      request(mine[2] ?? '', 'worker-a', userId),
      request(mine[3] ?? '', 'worker-a', userId), // the fourth of a user limited to three
    ]);
    expect(answers.map((answer) => answer.kind)).toEqual([
      'acquired',
      'acquired',
      'acquired',
      'held',
      'finished',
      'acquired',
      'user-limit',
    ]);
    expect(answers[1]).toMatchObject({ fence: { runId: theirs, epoch: 1 }, userId: other });
    expect(answers[5]).toMatchObject({ fence: { runId: mine[2], epoch: 1 }, userId, run: { lastSeq: 0 } });
    const { rows } = await sql<{ id: string; lease_owner: string | null }>`
      select id, lease_owner from runs where user_id = ${userId} order by id`.execute(db());
    expect(rows.filter((row) => row.lease_owner === 'worker-a')).toHaveLength(3);
  });

  it('batches racing over the same users never lease past the limit', async () => {
    const users = [await insertUser(db()), await insertUser(db()), await insertUser(db())];
    const runs = await Promise.all(
      users.flatMap((userId) =>
        Array.from({ length: 4 }, async () => ({ userId, runId: await insertRun(userId) })),
      ),
    );
    // Three workers, each asking for every run, in its own order.
    const orders = [runs, [...runs].reverse(), [...runs.slice(6), ...runs.slice(0, 6)]];
    const batches = await Promise.all(
      orders.map((order, worker) =>
        acquireRunLeases(
          db(),
          order.map(({ runId, userId }) => ({
            runId,
            userId,
            owner: `worker-${worker}`,
            ttlMs: 30_000,
            now: new Date(),
            perUserLimit: 2,
          })),
        ),
      ),
    );
    const acquired = batches.flat().filter((answer) => answer.kind === 'acquired');
    expect(acquired).toHaveLength(6); // two per user, each run once
    expect(
      new Set(acquired.map((answer) => (answer.kind === 'acquired' ? answer.fence.runId : ''))),
    ).toHaveProperty('size', 6);
    for (const userId of users) {
      const { rows } = await sql<{ n: number }>`
        select count(*)::int as n from runs where user_id = ${userId} and lease_owner is not null`.execute(
        db(),
      );
      expect(rows[0]?.n).toBe(2);
    }
  });
});

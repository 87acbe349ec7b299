import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { renewRunLeases } from '../src/runs/run-lease.ts';
import { insertUser, uniqueId } from './support/ledger-fixtures.ts';
import { describeEachDatabase } from './support/test-databases.ts';

describeEachDatabase('lease renewal (a worker heartbeat)', ({ db }) => {
  /** A run leased by `owner` under `epoch`, its lease lapsing in a second. */
  const leasedRun = async (args: {
    owner: string;
    epoch: number;
    status?: 'running' | 'completed';
    cancel?: string;
  }) => {
    const userId = await insertUser(db());
    const id = uniqueId('run');
    const finished = args.status === 'completed';
    await sql`insert into runs (id, user_id, status, graph, estimated_cost, lease_owner, lease_epoch,
                                lease_expires_at, cancel_requested, finished_at)
              values (${id}, ${userId}, ${args.status ?? 'running'}, '{"version":1,"nodes":[],"edges":[]}', 0,
                      ${args.owner}, ${args.epoch}, now() + interval '1 second', ${args.cancel ?? null},
                      ${finished ? sql`now()` : null})`.execute(db());
    return id;
  };
  const expiresIn = async (id: string) => {
    const { rows } = await sql<{ seconds: number }>`
      select extract(epoch from (lease_expires_at - now()))::float8 as seconds from runs where id = ${id}`.execute(
      db(),
    );
    return rows[0]?.seconds ?? Number.NaN;
  };

  it('renews every lease still held in one statement and says which are lost', async () => {
    const owner = uniqueId('worker');
    const held = await leasedRun({ owner, epoch: 3 });
    const cancelled = await leasedRun({ owner, epoch: 1, cancel: 'stop please' });
    const movedOn = await leasedRun({ owner, epoch: 5 }); // another worker took it: epoch 5, we hold 4
    const otherOwner = await leasedRun({ owner: uniqueId('worker'), epoch: 2 });
    const ended = await leasedRun({ owner, epoch: 1, status: 'completed' });

    const renewals = await renewRunLeases(db(), {
      owner,
      ttlMs: 60_000,
      fences: [
        { runId: held, epoch: 3 },
        { runId: cancelled, epoch: 1 },
        { runId: movedOn, epoch: 4 },
        { runId: otherOwner, epoch: 2 },
        { runId: ended, epoch: 1 },
      ],
    });

    expect(Object.fromEntries(renewals)).toEqual({
      [held]: { held: true, cancelRequested: null },
      [cancelled]: { held: true, cancelRequested: 'stop please' },
      [movedOn]: { held: false },
      [otherOwner]: { held: false },
      [ended]: { held: false },
    });
    expect(await expiresIn(held)).toBeGreaterThan(50);
    expect(await expiresIn(cancelled)).toBeGreaterThan(50);
    for (const id of [movedOn, otherOwner, ended]) expect(await expiresIn(id)).toBeLessThan(2);
  });

  it('renews nothing for no runs', async () => {
    expect((await renewRunLeases(db(), { owner: 'w', ttlMs: 1_000, fences: [] })).size).toBe(0);
  });
});

import { sql } from 'kysely';
import { expect, it, vi } from 'vitest';
import { followRunEvents, openRunEvents } from '../src/runs/follow-run-events.ts';
import { createRunEventBus, type RunEventBus, type StoredRunEvent } from '../src/runs/run-event-bus.ts';
import { countStatements } from './support/count-statements.ts';
import { insertUser, uniqueId } from './support/ledger-fixtures.ts';
import { describeEachDatabase } from './support/test-databases.ts';

/** A bus that counts its live subscriptions, to prove that nothing is left subscribed. */
function countingBus(): RunEventBus & { readonly active: () => number } {
  const bus = createRunEventBus();
  let active = 0;
  return {
    ...bus,
    subscribe(runId, listener) {
      active++;
      const stop = bus.subscribe(runId, listener);
      let stopped = false;
      return () => {
        if (!stopped) active--;
        stopped = true;
        stop();
      };
    },
    active: () => active,
  };
}

describeEachDatabase('opening a run event stream', ({ db }) => {
  const insertRun = async (
    userId: string,
    status: 'running' | 'completed',
    events: number,
    terminal = true,
  ) => {
    const id = uniqueId('run');
    await sql`insert into runs (id, user_id, status, graph, estimated_cost, finished_at)
              values (${id}, ${userId}, ${status}, '{"version":1,"nodes":[],"edges":[]}', 0,
                      ${status === 'completed' ? sql`now()` : null})`.execute(db());
    for (let seq = 1; seq <= events; seq++) {
      const type = terminal && status === 'completed' && seq === events ? 'run.completed' : 'node.progress';
      await sql`insert into run_events (run_id, seq, type, payload)
                values (${id}, ${seq}, ${type}, ${JSON.stringify({ type, seq })}::json)`.execute(db());
    }
    return id;
  };

  it("answers nothing, subscribed to nothing, for another user's run or a missing one", async () => {
    const owner = await insertUser(db());
    const stranger = await insertUser(db());
    const runId = await insertRun(owner, 'running', 2);
    const bus = countingBus();
    expect(await openRunEvents({ db: db(), bus, runId, after: 0, userId: stranger })).toBeUndefined();
    expect(await openRunEvents({ db: db(), bus, runId: uniqueId('run'), after: 0 })).toBeUndefined();
    expect(bus.active()).toBe(0);
  });

  it('replays after Last-Event-ID, then follows live events to the terminal one, with no duplicate', async () => {
    const owner = await insertUser(db());
    const runId = await insertRun(owner, 'running', 3);
    const bus = countingBus();
    const opened = await openRunEvents({ db: db(), bus, runId, after: 1, userId: owner });
    expect(opened).toBeDefined();
    if (opened === undefined) return;
    // Heard while opening: a repeat of a stored event, then new ones.
    bus.publish(runId, [{ seq: 3, type: 'node.progress', payload: { seq: 3 } }]);
    const seen: StoredRunEvent[] = [];
    const following = followRunEvents({
      ...opened.options,
      opened,
      send: async (event) => {
        seen.push(event);
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    bus.publish(runId, [
      { seq: 4, type: 'node.progress', payload: { seq: 4 } },
      { seq: 5, type: 'run.completed', payload: { seq: 5 } },
    ]);
    await following;
    expect(seen.map((event) => event.seq)).toEqual([2, 3, 4, 5]);
    expect(seen[0]).toEqual({ seq: 2, type: 'node.progress', payload: { type: 'node.progress', seq: 2 } });
    expect(bus.active()).toBe(0);
  });

  it('sendBatch gets the replay and each published batch whole, duplicates dropped, up to the terminal event', async () => {
    const owner = await insertUser(db());
    const runId = await insertRun(owner, 'running', 3);
    const bus = countingBus();
    const opened = await openRunEvents({ db: db(), bus, runId, after: 0, userId: owner });
    if (opened === undefined) throw new Error('the run should open');
    const batches: number[][] = [];
    const following = followRunEvents({
      ...opened.options,
      opened,
      sendBatch: async (events) => {
        batches.push(events.map((event) => event.seq));
      },
    });
    await vi.waitFor(() => expect(batches).toHaveLength(1));
    // A batch stored together: one repeat of the replay, two new events, then one after the end.
    bus.publish(runId, [
      { seq: 3, type: 'node.progress', payload: { seq: 3 } },
      { seq: 4, type: 'node.progress', payload: { seq: 4 } },
      { seq: 5, type: 'node.completed', payload: { seq: 5 } },
    ]);
    bus.publish(runId, [
      { seq: 6, type: 'run.completed', payload: { seq: 6 } },
      { seq: 7, type: 'node.progress', payload: { seq: 7 } },
    ]);
    await following;
    expect(batches).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(bus.active()).toBe(0);
  });

  it('ends after the replay when the run had finished, even with no terminal event stored', async () => {
    const owner = await insertUser(db());
    const runId = await insertRun(owner, 'completed', 4, false);
    const bus = countingBus();
    const seen: number[] = [];
    await followRunEvents({
      db: db(),
      bus,
      runId,
      after: 0,
      userId: owner,
      send: async (event) => {
        seen.push(event.seq);
      },
    });
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(bus.active()).toBe(0);
  });

  it('an opened stream closed without following leaves no subscription', async () => {
    const owner = await insertUser(db());
    const runId = await insertRun(owner, 'running', 1);
    const bus = countingBus();
    const opened = await openRunEvents({ db: db(), bus, runId, after: 0 });
    expect(bus.active()).toBe(1);
    opened?.close();
    opened?.close();
    expect(bus.active()).toBe(0);
  });

  it('streams opened at once share statements; each replays its own run after its own Last-Event-ID', async () => {
    const owner = await insertUser(db());
    const stranger = await insertUser(db());
    const runs = [
      await insertRun(owner, 'running', 3),
      await insertRun(owner, 'completed', 4),
      await insertRun(stranger, 'running', 2),
      await insertRun(owner, 'running', 0),
    ];
    const { db: counted, count: statements } = countStatements(db());
    const bus = countingBus();
    const openings = [
      { runId: runs[0] ?? '', after: 1, userId: owner },
      { runId: runs[1] ?? '', after: 0, userId: owner },
      // Another user's run, and a missing one, in the same burst: answered as missing.
      { runId: runs[2] ?? '', after: 0, userId: owner },
      { runId: uniqueId('run'), after: 0, userId: owner },
      { runId: runs[3] ?? '', after: 0, userId: owner },
      { runId: runs[1] ?? '', after: 2, userId: owner },
      { runId: runs[2] ?? '', after: 1, userId: undefined },
    ];
    const opened = await Promise.all(
      openings.map(({ userId, ...opening }) =>
        openRunEvents({ db: counted, bus, ...opening, ...(userId === undefined ? {} : { userId }) }),
      ),
    );
    // Two went at once (two statements in flight at most); the five made meanwhile went together.
    expect(statements()).toBeLessThanOrEqual(3);
    expect(opened.map((stream) => stream !== undefined)).toEqual([
      true,
      true,
      false,
      false,
      true,
      true,
      true,
    ]);
    const replays = await Promise.all(
      opened.map(async (stream) => {
        if (stream === undefined) return undefined;
        const seqs: number[] = [];
        const following = followRunEvents({
          ...stream.options,
          opened: stream,
          send: async (event) => {
            seqs.push(event.seq);
          },
        });
        // Running runs end on the bus; the finished one ends after its replay.
        bus.end(stream.options.runId);
        await following;
        return seqs;
      }),
    );
    expect(replays).toEqual([[2, 3], [1, 2, 3, 4], undefined, undefined, [], [3, 4], [2]]);
    expect(bus.active()).toBe(0);
  });
});

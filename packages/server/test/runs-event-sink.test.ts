import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/log/create-logger.ts';
import { createRunEventBus, type StoredRunEvent } from '../src/runs/run-event-bus.ts';
import { createRunEventSink } from '../src/runs/run-event-sink.ts';
import { captureLog } from './support/capture-log.ts';
import { insertUser, uniqueId } from './support/ledger-fixtures.ts';
import { describeEachDatabase } from './support/test-databases.ts';

describeEachDatabase('run event sink', ({ db }) => {
  const setup = (options: { batchDelayMs?: number; notifyChannel?: string } = {}) => {
    const { log, lines } = captureLog();
    const bus = createRunEventBus();
    const published = new Map<string, number[]>();
    bus.tap((runId, events: readonly StoredRunEvent[]) => {
      published.set(runId, [...(published.get(runId) ?? []), ...events.map((event) => event.seq)]);
    });
    const sink = createRunEventSink({ db: db(), bus, log, ...options });
    return { sink, bus, published, lines };
  };

  /** A run row of a user of its own, with a lease epoch. */
  const newRun = async (epoch = 1) => {
    const userId = await insertUser(db());
    const id = uniqueId('run');
    await db()
      .insertInto('runs')
      .values({ id, user_id: userId, graph: '{"version":1,"nodes":[],"edges":[]}', estimated_cost: 0 })
      .execute();
    await db().updateTable('runs').set({ lease_epoch: epoch }).where('id', '=', id).execute();
    return id;
  };
  const event = (seq: number, type = 'node.progress') => ({ type, seq, runId: 'x', at: 0 });
  const stored = async (runId: string) => {
    const { rows } = await sql<{ seq: number; tx: string }>`
      select seq, xmin::text as tx from run_events where run_id = ${runId} order by seq`.execute(db());
    return rows;
  };

  it("stores the events of every run waiting in one statement, each run's in seq order", async () => {
    const t = setup({ batchDelayMs: 5 });
    const runs = await Promise.all([newRun(), newRun(), newRun()]);
    const writers = runs.map((runId) => t.sink.writer({ runId, fence: { runId, epoch: 1 } }));
    for (const writer of writers) for (let seq = 1; seq <= 3; seq++) writer.push(event(seq));
    await Promise.all(writers.map((writer) => writer.flush()));

    const rows = await Promise.all(runs.map(stored));
    for (const [i, runId] of runs.entries()) {
      expect(rows[i]?.map((row) => row.seq)).toEqual([1, 2, 3]);
      expect(t.published.get(runId)).toEqual([1, 2, 3]);
    }
    // One transaction for all nine rows.
    expect(new Set(rows.flat().map((row) => row.tx)).size).toBe(1);
  });

  it('events pushed while a statement is in flight go in the next one, in order, with nothing lost', async () => {
    const t = setup();
    const runId = await newRun();
    const writer = t.sink.writer({ runId, lastSeq: 10 });
    for (let seq = 11; seq <= 60; seq++) {
      writer.push(event(seq));
      if (seq % 7 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    writer.push(event(61, 'run.completed'));
    expect(writer.ended).toBe(true);
    expect(writer.lastSeq).toBe(61);
    await writer.flush();
    const seqs = (await stored(runId)).map((row) => row.seq);
    expect(seqs).toEqual(Array.from({ length: 51 }, (_, i) => 11 + i));
    expect(t.published.get(runId)).toEqual(seqs);
  });

  it("a run that changed hands stores nothing more; the other runs' events are stored", async () => {
    const t = setup();
    const mine = await newRun(1);
    const taken = await newRun(2); // another worker holds epoch 2
    const a = t.sink.writer({ runId: mine, fence: { runId: mine, epoch: 1 } });
    const b = t.sink.writer({ runId: taken, fence: { runId: taken, epoch: 1 } });
    a.push(event(1));
    b.push(event(1));
    await Promise.all([a.flush(), b.flush()]);
    b.push(event(2));
    a.push(event(2));
    await Promise.all([a.flush(), b.flush()]);

    expect((await stored(mine)).map((row) => row.seq)).toEqual([1, 2]);
    expect(await stored(taken)).toEqual([]);
    expect(t.published.get(taken)).toBeUndefined();
    expect(t.lines.filter((line) => line.includes('storing no more for this run'))).toHaveLength(1);
  });

  it("a run whose rows the database refuses is retried on its own and given up; it holds no one else's back", async () => {
    const t = setup({ batchDelayMs: 5 });
    const good = await newRun();
    const missing = uniqueId('run'); // no runs row: its events break the foreign key
    const a = t.sink.writer({ runId: good });
    const b = t.sink.writer({ runId: missing });
    a.push(event(1));
    b.push(event(1));
    await a.flush();
    expect((await stored(good)).map((row) => row.seq)).toEqual([1]);
    await b.flush();
    const failures = t.lines.filter((line) => line.includes(missing));
    expect(failures).toHaveLength(5);
    expect(failures.at(-1)).toContain('storing no more for this run');
    // The good run still stores what comes next.
    a.push(event(2, 'run.completed'));
    await a.flush();
    expect((await stored(good)).map((row) => row.seq)).toEqual([1, 2]);
    expect(t.published.get(missing)).toBeUndefined();
  });

  it('a seq already stored is left alone and published (a retry after a commit an error hid)', async () => {
    const t = setup();
    const runId = await newRun();
    const first = t.sink.writer({ runId, fence: { runId, epoch: 1 } });
    first.push(event(1, 'run.started'));
    await first.flush();
    const again = t.sink.writer({ runId, fence: { runId, epoch: 1 } });
    again.push(event(1, 'other'));
    again.push(event(2));
    await again.flush();
    const { rows } = await sql<{ seq: number; type: string }>`
      select seq, type from run_events where run_id = ${runId} order by seq`.execute(db());
    expect(rows).toEqual([
      { seq: 1, type: 'run.started' },
      { seq: 2, type: 'node.progress' },
    ]);
    expect(t.published.get(runId)).toEqual([1, 1, 2]);
  });
});

describe('run event sink: flush', () => {
  it('resolves at once when nothing is waiting', async () => {
    const sink = createRunEventSink({
      db: undefined as never, // never queried: nothing is pushed
      bus: createRunEventBus(),
      log: createLogger({ level: 'silent' }),
    });
    await expect(sink.writer({ runId: 'run-1' }).flush()).resolves.toBeUndefined();
  });
});

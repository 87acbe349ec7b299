/**
 * How a worker looks at the distributed queue: at once when told (a dispatch notification) and
 * when one of its slots frees, and otherwise on a fallback timer that backs off while the queue
 * stays empty, so that idle workers do not ask the database twice a second each. The queue is a
 * stand-in recording each `take`; the executor is the real one, on the lane's database.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { createLogger } from '../src/log/create-logger.ts';
import type { RunDispatch } from '../src/runs/pg-boss-dispatch.ts';
import { createRunExecutor, type RunExecutor } from '../src/runs/run-executor.ts';
import type { RunQueueJob } from '../src/runs/run-queue.ts';
import { createTestApp, type TestApp } from './support/test-app.ts';
import { describeEachDatabase } from './support/test-databases.ts';

/** A queue that records when it was asked, answering from `jobs` (then nothing). */
function recordingDispatch(jobs: RunQueueJob[] = []) {
  const takes: number[] = [];
  const waiters: (() => void)[] = [];
  const dispatch: RunDispatch = {
    send: async () => {},
    take: async (count) => {
      takes.push(Date.now());
      for (const wake of waiters.splice(0)) wake();
      return jobs.splice(0, count);
    },
    depth: async () => jobs.length,
    every: async () => {},
    stop: async () => {},
  };
  /** Resolves at the next `take`, or with false after `ms`. */
  const nextTake = (ms: number) =>
    new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  return { dispatch, takes, nextTake };
}

function executorOn(
  t: TestApp,
  dispatch: RunDispatch,
  timing: { pollMs: number; idlePollMs: number; maxRuns?: number },
): RunExecutor {
  return createRunExecutor({
    db: t.services.db,
    ledger: t.services.ledger,
    vault: t.services.vault,
    providers: t.services.providers,
    log: createLogger({ level: 'silent' }),
    dataDir: mkdtempSync(join(tmpdir(), 'vidgenie-polling-')),
    dispatch,
    work: true,
    maxRuns: timing.maxRuns ?? 1,
    pollMs: timing.pollMs,
    idlePollMs: timing.idlePollMs,
    sweepMs: 3_600_000,
  });
}

describeEachDatabase('queue polling', ({ database }) => {
  it('backs off while the queue stays empty, and looks at once when told', async () => {
    const t = await createTestApp(database());
    const { dispatch, takes } = recordingDispatch();
    const executor = executorOn(t, dispatch, { pollMs: 50, idlePollMs: 400 });
    try {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      // Every 50 ms that would be about 40 looks; backing off to 400 ms, about 7.
      expect(takes.length).toBeGreaterThanOrEqual(2);
      expect(takes.length).toBeLessThan(15);
      const gaps = takes.slice(1).map((at, i) => at - (takes[i] as number));
      expect(Math.max(...gaps)).toBeGreaterThanOrEqual(350);
      // A dispatch notification: the queue is asked now, not at the next tick.
      const before = takes.length;
      executor.pollQueue();
      expect(takes.length).toBe(before + 1);
    } finally {
      await executor.close({ graceMs: 1_000 });
      await t.services.close();
    }
  });

  it('asks again as soon as a run ends and frees its slot', async () => {
    const t = await createTestApp(database());
    // A run the database does not know ends at once (nothing to lease): its slot frees.
    const { dispatch, takes, nextTake } = recordingDispatch([{ runId: 'run_not_there', userId: 'usr_x' }]);
    const executor = executorOn(t, dispatch, { pollMs: 60_000, idlePollMs: 60_000 });
    try {
      executor.pollQueue(); // takes the run
      expect(takes.length).toBe(1);
      // The fallback timer is a minute away: only the freed slot can explain another look now.
      expect(await nextTake(5_000)).toBe(true);
      expect(takes.length).toBe(2);
    } finally {
      await executor.close({ graceMs: 1_000 });
      await t.services.close();
    }
  });

  it('does not ask when a run ends if the last look found the queue empty and nothing came since', async () => {
    const t = await createTestApp(database());
    const { dispatch, takes } = recordingDispatch([{ runId: 'run_not_there_either', userId: 'usr_y' }]);
    // Two free slots, one run found: the queue is empty after that look.
    const executor = executorOn(t, dispatch, { pollMs: 60_000, idlePollMs: 60_000, maxRuns: 2 });
    try {
      executor.pollQueue();
      expect(takes.length).toBe(1);
      const deadline = Date.now() + 5_000;
      while (executor.isExecuting('run_not_there_either') && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect(executor.isExecuting('run_not_there_either')).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(takes.length).toBe(1);
      // Told that a run was sent: it asks again.
      executor.pollQueue();
      expect(takes.length).toBe(2);
    } finally {
      await executor.close({ graceMs: 1_000 });
      await t.services.close();
    }
  });
});

import { expect, it } from 'vitest';
import { createLogger } from '../src/log/create-logger.ts';
import { type RunDispatch, startRunDispatch } from '../src/runs/pg-boss-dispatch.ts';
import { describePostgres } from './support/test-databases.ts';

const silent = createLogger({ level: 'silent' });

/**
 * Workers started at the same moment on a fresh database (a new cluster's first boot, or a chaos
 * run's respawns) all create pg-boss's queues at once. pg-boss does that with DDL in a
 * transaction, and two of them can deadlock: PostgreSQL aborts one, and that worker used to die at
 * start. Every one must come up.
 */
describePostgres('run dispatch started by many processes at once', ({ database }) => {
  it('starts them all on a fresh database, with their scheduled queues, and sends and takes runs', async () => {
    const dispatches: RunDispatch[] = [];
    try {
      const started = await Promise.allSettled(
        Array.from({ length: 4 }, async () => {
          const dispatch = await startRunDispatch({
            connectionString: database().url,
            log: silent,
            poolSize: 2,
          });
          dispatches.push(dispatch);
          await dispatch.every('vidgenie-test-tick', '0 3 * * *', async () => {}, { work: false });
          return dispatch;
        }),
      );
      expect(started.filter((result) => result.status === 'rejected')).toEqual([]);
      const [first, second] = dispatches;
      await first?.send({ runId: 'run_dispatch_start', userId: 'usr_1' });
      expect(await second?.take(5)).toEqual([{ runId: 'run_dispatch_start', userId: 'usr_1' }]);
    } finally {
      await Promise.all(dispatches.map((dispatch) => dispatch.stop()));
    }
  });

  it('runs sent at once go together; a run sent while its job waits is sent once, a delayed one later', async () => {
    const dispatch = await startRunDispatch({ connectionString: database().url, log: silent, poolSize: 2 });
    try {
      const jobs = Array.from({ length: 6 }, (_, i) => ({ runId: `run_burst_${i}`, userId: `usr_${i % 2}` }));
      await Promise.all([...jobs, ...jobs.slice(0, 2)].map((job) => dispatch.send(job)));
      await dispatch.send({ runId: 'run_later', userId: 'usr_9' }, { delaySeconds: 60 });
      expect(await dispatch.depth()).toBe(7); // six runs, one job each, and the delayed one
      const taken = await dispatch.take(10);
      expect(taken.map((job) => job.runId).sort()).toEqual(jobs.map((job) => job.runId).sort());
      expect(taken.find((job) => job.runId === 'run_burst_3')).toEqual({
        runId: 'run_burst_3',
        userId: 'usr_1',
      });
      expect(await dispatch.take(10)).toEqual([]); // the delayed run is not due yet
    } finally {
      await dispatch.stop();
    }
  });
});

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
});

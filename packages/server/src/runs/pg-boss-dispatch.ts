import PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import { gather } from '../db/gather.ts';
import type { RunQueueJob } from './run-queue.ts';

/** The pg-boss queue runs are sent to. */
export const RUN_QUEUE_NAME = 'vidgenie-runs';

/** Runs sent to and taken from a pg-boss queue (distributed mode). */
export interface RunDispatch {
  /**
   * Sends a run to the queue (after `delaySeconds`). At most one job per run waits in the queue
   * (the queue's `short` policy, keyed by run id): a second send while one waits does nothing.
   */
  send(job: RunQueueJob, options?: { readonly delaySeconds?: number }): Promise<void>;
  /** Takes up to `count` waiting runs off the queue (their jobs completed: the lease owns them now). */
  take(count: number): Promise<RunQueueJob[]>;
  /** Jobs waiting in the queue (for the queue-depth metric). */
  depth(): Promise<number>;
  /**
   * Runs `task` on a cron schedule, once per tick across every machine (a pg-boss schedule and
   * queue named `name`); only processes with `work` execute it, the others only keep the schedule.
   * Workers look for the tick's job every `pollingIntervalSeconds` (default 30).
   */
  every(
    name: string,
    cron: string,
    task: () => Promise<void>,
    options: { readonly work: boolean; readonly pollingIntervalSeconds?: number },
  ): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts pg-boss on `connectionString` (its tables live in the `pgboss` schema, created on first
 * start) and creates the run queue with the `short` policy. pg-boss only dispatches: once a worker
 * takes a job, the run's lease (see `run-lease.ts`) says who executes it, so a long run never
 * keeps a queue job active and a crashed worker's runs are found by the lease sweep, not by
 * pg-boss's expiry.
 * @internal
 */
export async function startRunDispatch(args: {
  readonly connectionString: string;
  readonly log: Logger;
  /** Connections of pg-boss's own pool (default 4). */
  readonly poolSize?: number;
}): Promise<RunDispatch> {
  const boss = new PgBoss({
    connectionString: args.connectionString,
    max: args.poolSize ?? 4,
    application_name: 'vidgenie-dispatch',
    // Jobs are completed as soon as they are taken; keep a day of history for operators.
    deleteAfterDays: 1,
    retentionDays: 7,
  });
  boss.on('error', (error) => args.log.error({ err: error }, 'pg-boss error'));
  await boss.start();
  await createQueue(boss, RUN_QUEUE_NAME, { policy: 'short', retryLimit: 0 });
  // Runs sent at once (a burst of accepted runs) go in one insert: pg-boss's `insert` takes the
  // queue's policy and options as `send` does, and skips a run that already has a job waiting.
  const sendNow = gather({
    send: async (jobs: readonly RunQueueJob[]) => {
      await boss.insert(
        jobs.map((job) => ({
          name: RUN_QUEUE_NAME,
          data: { runId: job.runId, userId: job.userId },
          singletonKey: job.runId,
        })),
      );
      return jobs.map(() => undefined);
    },
  });
  return Object.freeze({
    async send(job: RunQueueJob, options: { readonly delaySeconds?: number } = {}) {
      if (options.delaySeconds === undefined) {
        await sendNow({ runId: job.runId, userId: job.userId });
        return;
      }
      await boss.send(
        RUN_QUEUE_NAME,
        { runId: job.runId, userId: job.userId },
        { singletonKey: job.runId, startAfter: options.delaySeconds },
      );
    },
    async take(count: number) {
      if (count <= 0) return [];
      const jobs = await boss.fetch<RunQueueJob>(RUN_QUEUE_NAME, { batchSize: count });
      if (jobs.length === 0) return [];
      await boss.complete(
        RUN_QUEUE_NAME,
        jobs.map((job) => job.id),
      );
      return jobs.map((job) => ({ runId: job.data.runId, userId: job.data.userId }));
    },
    depth: () => boss.getQueueSize(RUN_QUEUE_NAME),
    async every(
      name: string,
      cron: string,
      task: () => Promise<void>,
      options: { readonly work: boolean; readonly pollingIntervalSeconds?: number },
    ) {
      await createQueue(boss, name, { policy: 'short', retryLimit: 2, retryDelay: 60 });
      await boss.schedule(name, cron);
      if (options.work) {
        await boss.work(name, { pollingIntervalSeconds: options.pollingIntervalSeconds ?? 30 }, () => task());
      }
    },
    async stop() {
      await boss.stop({ graceful: false, close: true, wait: true });
    },
  });
}

/** PostgreSQL's codes for a deadlock and a unique violation. */
const RACED = new Set(['40P01', '23505']);

/**
 * Creates a queue unless it exists. pg-boss creates a queue's partition table (DDL) and records it
 * in one transaction, so processes starting at once on a fresh database can deadlock each other
 * (PostgreSQL then aborts one of them: a worker died at start in the chaos run). The loser tries
 * again after a short random pause and finds the queue made.
 */
async function createQueue(
  boss: PgBoss,
  name: string,
  options: Omit<Parameters<PgBoss['createQueue']>[1] & object, 'name'>,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await boss.createQueue(name, { ...options, name });
      return;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (attempt >= 5 || typeof code !== 'string' || !RACED.has(code)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 200 * attempt));
    }
  }
}

/** One queued job of a {@link RunQueue}. */
export interface RunQueueJob {
  readonly runId: string;
  readonly userId: string;
}

/** Options of {@link createRunQueue}. */
export interface RunQueueOptions {
  /** Runs of one user at once (PRD: 5). */
  readonly perUser: number;
  /** Runs at once in this process, all users together. */
  readonly global: number;
  /** Runs a job; the slot is freed when the promise settles. */
  readonly run: (job: RunQueueJob) => Promise<void>;
}

/** A FIFO of runs under a per-user and a global concurrency limit. */
export interface RunQueue {
  /** Queues a job (a run id already queued or running is ignored). */
  add(job: RunQueueJob): void;
  /** Takes a job out of the queue before it starts; false if it was not waiting. */
  remove(runId: string): boolean;
  /** 1 for the next run to start among those waiting; undefined when not waiting. */
  position(runId: string): number | undefined;
  /** Whether the run is running in this process. */
  isRunning(runId: string): boolean;
  /** Whether a job of this user added now would start at once (a free slot, the user under their limit). */
  startsNow(userId: string): boolean;
  /** Jobs waiting or running. */
  readonly size: number;
  /** Stops starting jobs; resolves when the running ones have settled. */
  close(): Promise<void>;
}

/**
 * A small in-process run queue: the oldest waiting run whose user is under `perUser` starts as
 * soon as fewer than `global` runs are running. A user at their limit does not hold up others.
 *
 * @example
 * ```ts
 * import { createRunQueue } from '@vidgenie/server';
 * const queue = createRunQueue({ perUser: 5, global: 20, run: async (job) => console.log(job.runId) });
 * queue.add({ runId: 'run-1', userId: 'usr_1' });
 * await queue.close();
 * ```
 */
export function createRunQueue(options: RunQueueOptions): RunQueue {
  const waiting: RunQueueJob[] = [];
  const running = new Map<string, Promise<void>>();
  const perUser = new Map<string, number>();
  let closed = false;

  const pump = () => {
    for (let i = 0; i < waiting.length && running.size < options.global && !closed; ) {
      const job = waiting[i] as RunQueueJob;
      const count = perUser.get(job.userId) ?? 0;
      if (count >= options.perUser) {
        i++;
        continue;
      }
      waiting.splice(i, 1);
      perUser.set(job.userId, count + 1);
      const done = Promise.resolve()
        .then(() => options.run(job))
        .catch(() => {
          // `run` reports its own failures; the slot is freed either way.
        })
        .finally(() => {
          running.delete(job.runId);
          const left = (perUser.get(job.userId) ?? 1) - 1;
          if (left === 0) perUser.delete(job.userId);
          else perUser.set(job.userId, left);
          pump();
        });
      running.set(job.runId, done);
    }
  };

  return Object.freeze({
    add(job: RunQueueJob) {
      if (closed || running.has(job.runId) || waiting.some((w) => w.runId === job.runId)) return;
      waiting.push(job);
      pump();
    },
    remove(runId: string) {
      const index = waiting.findIndex((job) => job.runId === runId);
      if (index === -1) return false;
      waiting.splice(index, 1);
      return true;
    },
    position(runId: string) {
      const index = waiting.findIndex((job) => job.runId === runId);
      return index === -1 ? undefined : index + 1;
    },
    isRunning: (runId: string) => running.has(runId),
    startsNow: (userId: string) =>
      !closed && running.size < options.global && (perUser.get(userId) ?? 0) < options.perUser,
    get size() {
      return waiting.length + running.size;
    },
    async close() {
      closed = true;
      waiting.length = 0;
      await Promise.all([...running.values()]);
    },
  });
}

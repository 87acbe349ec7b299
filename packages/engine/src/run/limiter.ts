import PQueue from 'p-queue';

/** Per-key concurrency limits shared by every run of an engine (e.g. one per provider key). @internal */
export interface KeyLimits {
  queueFor(key: string): PQueue | undefined;
}

/** @internal */
export function createKeyLimits(keyConcurrency?: number | ((key: string) => number | undefined)): KeyLimits {
  const queues = new Map<string, PQueue | undefined>();
  return {
    queueFor(key) {
      if (queues.has(key)) return queues.get(key);
      const limit = typeof keyConcurrency === 'function' ? keyConcurrency(key) : keyConcurrency;
      const queue =
        limit === undefined || limit === Number.POSITIVE_INFINITY
          ? undefined
          : new PQueue({ concurrency: limit });
      queues.set(key, queue);
      return queue;
    },
  };
}

/**
 * Bounds how many nodes of one run run at once, under the engine's shared per-key limits. A task
 * waits for its key's slot before taking a run slot, so waiting on a busy key never holds a run
 * slot. @internal
 */
export interface Limiter {
  run<T>(key: string | undefined, task: () => Promise<T>): Promise<T>;
}

/** @internal */
export function createLimiter(args: { readonly concurrency: number; readonly keys: KeyLimits }): Limiter {
  const local = new PQueue({ concurrency: args.concurrency });
  return {
    run(key, task) {
      const keyQueue = key === undefined ? undefined : args.keys.queueFor(key);
      if (keyQueue === undefined) return local.add(task);
      return keyQueue.add(() => local.add(task));
    },
  };
}

import PQueue from 'p-queue';

/**
 * Per-key concurrency limits shared by every run of an engine (e.g. one slot per provider key), as
 * one p-queue per key, made on first use. Keys without a limit get no queue. @internal
 */
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

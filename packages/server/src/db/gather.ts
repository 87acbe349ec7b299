/** Options of {@link gather}. */
export interface GatherOptions<T, R> {
  /**
   * Sends items together (one statement) and answers each, in order. When it throws for several
   * items, each is sent again on its own, so one bad item fails only itself.
   */
  readonly send: (items: readonly T[]) => Promise<readonly R[]>;
  /** Sends in flight at most (default 2). */
  readonly concurrency?: number;
}

/**
 * A group commit for any statement: an item goes at once while fewer than `concurrency` sends are
 * in flight, and the items that come while they all are wait and go together in the next. Idle,
 * nothing waits; in a burst, many items make a few statements instead of one each, and the shared
 * pool is asked for fewer connections.
 * @internal
 */
export function gather<T, R>(options: GatherOptions<T, R>): (item: T) => Promise<R> {
  const concurrency = Math.max(1, options.concurrency ?? 2);
  type Waiting = {
    readonly item: T;
    readonly resolve: (value: R) => void;
    readonly reject: (error: unknown) => void;
  };
  let queue: Waiting[] = [];
  let inFlight = 0;

  const sendOne = async (waiting: Waiting) => {
    try {
      const [result] = await options.send([waiting.item]);
      waiting.resolve(result as R);
    } catch (error) {
      waiting.reject(error);
    }
  };

  const next = async () => {
    inFlight++;
    try {
      while (queue.length > 0) {
        const batch = queue;
        queue = [];
        try {
          const results = await options.send(batch.map((waiting) => waiting.item));
          for (const [i, waiting] of batch.entries()) waiting.resolve(results[i] as R);
        } catch (error) {
          if (batch.length === 1) batch[0]?.reject(error);
          else for (const waiting of batch) await sendOne(waiting);
        }
      }
    } finally {
      inFlight--;
    }
  };

  return (item) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (inFlight < concurrency) void next();
    });
}

/**
 * A gathered statement's `send` for items that must not meet in one statement (two writes of one
 * run, two holds on one account): an item whose key is already in the batch goes in the next
 * statement, after the first, as it would have gone alone. Answers in the items' order.
 * @internal
 */
export function onePerKey<T, R>(
  keyOf: (item: T) => string,
  send: (items: readonly T[]) => Promise<readonly R[]>,
): (items: readonly T[]) => Promise<R[]> {
  return async (items) => {
    const results: R[] = new Array(items.length);
    let rest = items.map((item, index) => ({ item, index }));
    while (rest.length > 0) {
      const seen = new Set<string>();
      const now: typeof rest = [];
      const later: typeof rest = [];
      for (const entry of rest) {
        const key = keyOf(entry.item);
        if (seen.has(key)) later.push(entry);
        else {
          seen.add(key);
          now.push(entry);
        }
      }
      const answers = await send(now.map((entry) => entry.item));
      for (const [k, entry] of now.entries()) results[entry.index] = answers[k] as R;
      rest = later;
    }
    return results;
  };
}

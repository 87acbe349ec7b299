/** A counting semaphore whose waiters are served first come, first served. */
export interface FifoSemaphore {
  /**
   * Waits for a free slot, in arrival order; resolves with the function that gives it back (safe to
   * call twice). Rejects with the signal's reason, at once, when the signal aborts before a slot is
   * free; the place in the queue is given up.
   */
  acquire(signal?: AbortSignal): Promise<() => void>;
  /** Slots in use. */
  readonly active: number;
  /** Callers waiting for a slot. */
  readonly waiting: number;
}

/**
 * Creates a {@link FifoSemaphore} with `limit` slots (a whole number of at least 1, or `Infinity`).
 * `onIdle` is called whenever the last slot is given back with nobody waiting (to drop the
 * semaphore from a map).
 *
 * @example
 * ```ts
 * import { createFifoSemaphore } from '@vidgenie/server';
 * const slots = createFifoSemaphore(2);
 * const release = await slots.acquire();
 * release();
 * ```
 */
export function createFifoSemaphore(limit: number, onIdle?: () => void): FifoSemaphore {
  if (!(limit === Number.POSITIVE_INFINITY || (Number.isInteger(limit) && limit >= 1))) {
    throw new RangeError(`A semaphore needs at least one slot, not ${limit}.`);
  }
  let active = 0;
  const queue: { grant: () => void }[] = [];

  const releaser = () => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = queue.shift();
      if (next !== undefined) {
        next.grant();
        return;
      }
      active--;
      if (active === 0) onIdle?.();
    };
  };

  return {
    get active() {
      return active;
    },
    get waiting() {
      return queue.length;
    },
    acquire(signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (active < limit) {
        active++;
        return Promise.resolve(releaser());
      }
      return new Promise((resolve, reject) => {
        const onAbort = () => {
          const index = queue.indexOf(waiter);
          if (index >= 0) queue.splice(index, 1);
          reject(signal?.reason);
        };
        // The slot passes straight from the releaser to this waiter (`active` is unchanged).
        const waiter = {
          grant: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve(releaser());
          },
        };
        queue.push(waiter);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
  };
}

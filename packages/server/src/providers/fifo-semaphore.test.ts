import { describe, expect, it } from 'vitest';
import { createFifoSemaphore } from './fifo-semaphore.ts';

describe('createFifoSemaphore', () => {
  it('grants slots in arrival order and never more than its limit', async () => {
    const slots = createFifoSemaphore(2);
    const order: number[] = [];
    const releases = await Promise.all([slots.acquire(), slots.acquire()]);
    const waiting = [3, 4, 5].map((n) =>
      slots.acquire().then((release) => {
        order.push(n);
        return release;
      }),
    );
    expect(slots).toMatchObject({ active: 2, waiting: 3 });
    releases[0]!();
    releases[0]!(); // twice is harmless
    const third = await waiting[0]!;
    expect(slots).toMatchObject({ active: 2, waiting: 2 });
    releases[1]!();
    third();
    await Promise.all(waiting.slice(1)).then((rest) => {
      for (const release of rest) release();
    });
    expect(order).toEqual([3, 4, 5]);
    expect(slots).toMatchObject({ active: 0, waiting: 0 });
  });

  it('drops an aborted waiter at once, with the signal’s reason, and calls onIdle when unused', async () => {
    let idle = 0;
    const slots = createFifoSemaphore(1, () => idle++);
    const release = await slots.acquire();
    const controller = new AbortController();
    const reason = new Error('cancelled');
    const aborted = slots.acquire(controller.signal);
    const next = slots.acquire();
    controller.abort(reason);
    await expect(aborted).rejects.toBe(reason);
    expect(slots.waiting).toBe(1);
    release();
    (await next)();
    expect(idle).toBe(1);
    await expect(slots.acquire(controller.signal)).rejects.toBe(reason);
    expect(slots.active).toBe(0);
  });

  it('accepts Infinity and refuses fewer than one slot', async () => {
    const unlimited = createFifoSemaphore(Number.POSITIVE_INFINITY);
    await Promise.all(Array.from({ length: 100 }, () => unlimited.acquire()));
    expect(unlimited.active).toBe(100);
    expect(() => createFifoSemaphore(0)).toThrow(RangeError);
    expect(() => createFifoSemaphore(1.5)).toThrow(RangeError);
  });
});

import { describe, expect, it } from 'vitest';
import { gather } from '../src/db/gather.ts';

/** A send whose calls are recorded and held until released. */
function heldSend(fail: (item: string) => boolean = () => false) {
  const calls: string[][] = [];
  const releases: (() => void)[] = [];
  const send = async (items: readonly string[]) => {
    calls.push([...items]);
    await new Promise<void>((resolve) => releases.push(resolve));
    if (items.some(fail)) throw new Error(`refused ${items.join(',')}`);
    return items.map((item) => item.toUpperCase());
  };
  const releaseAll = async () => {
    for (let i = 0; i < 20 && releases.length > 0; i++) {
      for (const release of releases.splice(0)) release();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  };
  return { calls, send, releaseAll };
}

describe('gather', () => {
  it('sends an item at once while sends are free, and those that come meanwhile together, in order', async () => {
    const held = heldSend();
    const send = gather({ send: held.send, concurrency: 1 });
    const results = ['a', 'b', 'c', 'd'].map((item) => send(item));
    expect(held.calls).toEqual([['a']]);
    await held.releaseAll();
    expect(await Promise.all(results)).toEqual(['A', 'B', 'C', 'D']);
    expect(held.calls).toEqual([['a'], ['b', 'c', 'd']]);
  });

  it('keeps up to `concurrency` sends in flight before it gathers', async () => {
    const held = heldSend();
    const send = gather({ send: held.send, concurrency: 2 });
    const results = ['a', 'b', 'c', 'd', 'e'].map((item) => send(item));
    expect(held.calls).toEqual([['a'], ['b']]);
    await held.releaseAll();
    expect(await Promise.all(results)).toEqual(['A', 'B', 'C', 'D', 'E']);
    expect(held.calls.slice(2)).toEqual([['c', 'd', 'e']]);
  });

  it('when a shared send fails, sends each item alone: only the bad one fails', async () => {
    const held = heldSend((item) => item === 'bad');
    const send = gather({ send: held.send, concurrency: 1 });
    const results = ['a', 'b', 'bad', 'c'].map((item) =>
      send(item).then(
        (value) => value,
        (error: unknown) => (error as Error).message,
      ),
    );
    await held.releaseAll();
    expect(await Promise.all(results)).toEqual(['A', 'B', 'refused bad', 'C']);
    expect(held.calls).toEqual([['a'], ['b', 'bad', 'c'], ['b'], ['bad'], ['c']]);
  });
});

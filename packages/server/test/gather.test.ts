import { describe, expect, it } from 'vitest';
import { gather, onePerKey } from '../src/db/gather.ts';

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

describe('onePerKey', () => {
  it('sends an item whose key is already in the batch in the next statement, answering in order', async () => {
    const statements: string[][] = [];
    const send = onePerKey(
      (item: string) => item[0] ?? '',
      async (items) => {
        statements.push([...items]);
        return items.map((item) => `${item}!`);
      },
    );
    expect(await send(['a1', 'b1', 'a2', 'c1', 'a3', 'b2'])).toEqual([
      'a1!',
      'b1!',
      'a2!',
      'c1!',
      'a3!',
      'b2!',
    ]);
    expect(statements).toEqual([['a1', 'b1', 'c1'], ['a2', 'b2'], ['a3']]);
  });
});

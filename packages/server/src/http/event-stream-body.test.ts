import { describe, expect, it } from 'vitest';
import { createEventStreamBody } from './event-stream-body.ts';

const decoder = new TextDecoder();

describe('createEventStreamBody', () => {
  it('delivers what is written, in order, and ends on close', async () => {
    const stream = createEventStreamBody();
    await stream.write('data: 1\n\n');
    await stream.write('data: 2\n\n');
    stream.close();
    stream.close();
    expect(await new Response(stream.body).text()).toBe('data: 1\n\ndata: 2\n\n');
  });

  it('makes a writer wait while the client does not read, and lets it go as it reads', async () => {
    const stream = createEventStreamBody();
    const big = 'x'.repeat(40 * 1024);
    await stream.write(big); // under the high-water mark: at once
    let second = false;
    const pending = stream.write(big).then(() => {
      second = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(second).toBe(false);
    const reader = stream.body.getReader();
    let read = '';
    while (!second) {
      const { value } = await reader.read();
      read += decoder.decode(value);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    await pending;
    expect(read.length).toBeGreaterThanOrEqual(big.length);
  });

  it('aborts its signal when the client goes away, frees waiting writers and drops later text', async () => {
    const stream = createEventStreamBody();
    const first = stream.write('x'.repeat(70 * 1024)); // over the high-water mark: waits
    const waiting = stream.write('more');
    await stream.body.cancel();
    expect(stream.signal.aborted).toBe(true);
    await Promise.all([first, waiting]);
    await expect(stream.write('after')).resolves.toBeUndefined();
  });
});

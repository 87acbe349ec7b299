import fc from 'fast-check';
import { SSEStreamingApi } from 'hono/streaming';
import { describe, expect, it } from 'vitest';
import { createSseBatcher, formatSseMessage, type SseMessage } from './sse-batcher.ts';

/** What Hono's own `writeSSE` puts on the wire for a message. */
async function honoText(message: SseMessage): Promise<string> {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const api = new SSEStreamingApi(writable, readable);
  const reader = api.responseReadable.getReader();
  const read = reader.read();
  await api.writeSSE({ ...message });
  const { value } = await read;
  return new TextDecoder().decode(value);
}

/** A write that records its chunks and resolves when `release` is called (or at once). */
function recordingWrite(options: { readonly hold?: boolean } = {}) {
  const chunks: string[] = [];
  const holds: (() => void)[] = [];
  const write = (chunk: string) => {
    chunks.push(chunk);
    return options.hold ? new Promise<void>((resolve) => holds.push(resolve)) : Promise.resolve();
  };
  return { chunks, write, release: () => holds.shift()?.() };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
const message = (n: number): SseMessage => ({ id: String(n), event: 'node.progress', data: `{"n":${n}}` });

describe('formatSseMessage', () => {
  it('writes what Hono writeSSE writes, data lines split on every kind of line break', async () => {
    const line = fc.string().filter((s) => !/[\r\n]/.test(s));
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            event: line.filter((s) => s !== ''),
            id: line,
            data: fc
              .array(fc.tuple(line, fc.constantFrom('\n', '\r\n', '\r')))
              .map((parts) => parts.flat().join('')),
          },
          { requiredKeys: ['data'] },
        ),
        async (msg) => {
          expect(formatSseMessage(msg)).toBe(await honoText(msg));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('refuses an event or id with a line break, naming the field', () => {
    expect(() => formatSseMessage({ event: 'a\nb', data: '' })).toThrow(
      /SSE event must not contain a line break/,
    );
    expect(() => formatSseMessage({ id: '1\r', data: '' })).toThrow(/SSE id must not contain a line break/);
  });
});

describe('createSseBatcher', () => {
  it('writes the messages sent in one turn as one chunk, in order', async () => {
    const out = recordingWrite();
    const batch = createSseBatcher(out.write);
    for (let n = 1; n <= 5; n++) await batch.send(message(n));
    expect(out.chunks).toEqual([]); // nothing written before the turn ends
    await turn();
    expect(out.chunks).toEqual([[1, 2, 3, 4, 5].map((n) => formatSseMessage(message(n))).join('')]);
    await batch.send(message(6));
    await turn();
    expect(out.chunks).toHaveLength(2);
    expect(out.chunks[1]).toBe(formatSseMessage(message(6)));
  });

  it('makes a sender wait while a chunk is being written, and sends what came meanwhile next', async () => {
    const out = recordingWrite({ hold: true });
    const batch = createSseBatcher(out.write);
    await batch.send(message(1));
    await turn();
    expect(out.chunks).toHaveLength(1);
    let second = false;
    const sent = batch.send(message(2)).then(() => {
      second = true;
    });
    await turn();
    expect(second).toBe(false);
    out.release(); // chunk 1 gone: message 2 goes at once, in its own chunk
    await turn();
    expect(out.chunks).toEqual([formatSseMessage(message(1)), formatSseMessage(message(2))]);
    out.release();
    await sent;
    expect(second).toBe(true);
  });

  it('flush writes what is queued without waiting for the turn, and waits for it to be written', async () => {
    const out = recordingWrite();
    const batch = createSseBatcher(out.write);
    await batch.send(message(1));
    await batch.send(message(2));
    await batch.flush();
    expect(out.chunks).toEqual([formatSseMessage(message(1)) + formatSseMessage(message(2))]);
    await turn(); // the scheduled write finds nothing left
    expect(out.chunks).toHaveLength(1);
    await batch.flush(); // nothing queued
    expect(out.chunks).toHaveLength(1);
  });

  it('rejects the sender waiting on a write that failed; what was queued goes with the next write', async () => {
    let fail = true;
    const chunks: string[] = [];
    const batch = createSseBatcher(async (chunk) => {
      chunks.push(chunk);
      await turn();
      if (fail) throw new Error('socket closed');
    });
    await batch.send(message(1));
    await turn(); // chunk 1 is being written
    await expect(batch.send(message(2))).rejects.toThrow('socket closed');
    fail = false;
    await batch.send(message(3));
    await batch.flush();
    expect(chunks).toEqual([
      formatSseMessage(message(1)),
      formatSseMessage(message(2)) + formatSseMessage(message(3)),
    ]);
  });
});

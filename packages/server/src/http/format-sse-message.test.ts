import fc from 'fast-check';
import { SSEStreamingApi } from 'hono/streaming';
import { describe, expect, it } from 'vitest';
import { formatSseMessage, type SseMessage } from './format-sse-message.ts';

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

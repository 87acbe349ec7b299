/**
 * The bytes `start` to `end` (both included) of a stream: earlier bytes are read and dropped, and
 * the source is closed (its iterator returned) as soon as `end` is reached. Serves HTTP ranges from
 * a blob store that can only stream an object from its start.
 *
 * @example
 * ```ts
 * import { sliceStream } from '@vidgenie/server';
 * async function* source() { yield new Uint8Array([0, 1, 2, 3, 4, 5]); }
 * for await (const part of sliceStream(source(), 2, 3)) console.log(part); // Uint8Array [2, 3]
 * ```
 */
export async function* sliceStream(
  source: AsyncIterable<Uint8Array>,
  start: number,
  end: number,
): AsyncGenerator<Uint8Array> {
  let offset = 0;
  if (end < start) return;
  for await (const chunk of source) {
    const chunkEnd = offset + chunk.byteLength;
    if (chunkEnd > start) {
      const from = Math.max(0, start - offset);
      const to = Math.min(chunk.byteLength, end + 1 - offset);
      if (to > from) yield chunk.subarray(from, to);
    }
    offset = chunkEnd;
    // Leaving the loop returns the source's iterator, which closes a file or a socket.
    if (offset > end) return;
  }
}

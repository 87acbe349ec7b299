/**
 * An async iterable of bytes as a web `ReadableStream`, pulled one chunk at a time. An error from
 * the iterable errors the stream. Cancelling the stream (the client went away) returns the
 * iterator and then calls `close`: an iterator that was never pulled does not run its cleanup, so
 * pass `close` to destroy the file or socket underneath (`() => readable.destroy()`).
 * @internal
 */
export function toWebStream(
  body: AsyncIterable<Uint8Array>,
  options: { readonly close?: () => void } = {},
): ReadableStream<Uint8Array> {
  const iterator = body[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await iterator.next();
          if (done) controller.close();
          else controller.enqueue(value);
        } catch (error) {
          controller.error(error);
        }
      },
      async cancel() {
        try {
          await iterator.return?.();
        } finally {
          options.close?.();
        }
      },
    },
    { highWaterMark: 0 },
  );
}

/** One Server-Sent Events message, as `streamSSE`'s `writeSSE` takes it. */
export interface SseMessage {
  /** The message's `event:` field (no line break). */
  readonly event?: string;
  /** The `data:` payload; each of its lines becomes a `data:` line. */
  readonly data: string;
  /** The `id:` field, which a reconnecting client sends back as `Last-Event-ID` (no line break). */
  readonly id?: string;
}

/** Writes the messages sent in one turn of the event loop as one chunk: see {@link createSseBatcher}. */
export interface SseBatcher {
  /**
   * Queues a message. Resolves at once while nothing is being written, else once the write in
   * progress, which takes this message along, is done (the stream's backpressure); rejects when
   * that write failed.
   */
  send(message: SseMessage): Promise<void>;
  /** Writes what is queued now, and resolves once every queued message has been written. */
  flush(): Promise<void>;
}

/** The SSE wire text of one message, as Hono's `writeSSE` writes it. @internal */
export function formatSseMessage(message: SseMessage): string {
  for (const field of ['event', 'id'] as const) {
    const value = message[field];
    if (value !== undefined && /[\r\n]/.test(value)) {
      throw new TypeError(`An SSE ${field} must not contain a line break: ${JSON.stringify(value)}.`);
    }
  }
  const data = message.data
    .split(/\r\n|\r|\n/)
    .map((line) => `data: ${line}`)
    .join('\n');
  return `${message.event ? `event: ${message.event}\n` : ''}${data}\n${message.id === undefined ? '' : `id: ${message.id}\n`}\n`;
}

/**
 * Batches an event stream's writes: messages sent in the same turn of the event loop (a replay,
 * a batch of stored events published together) go out as one chunk, written when the turn ends.
 * Each chunk on an SSE response costs a trip through the web streams, the HTTP layer and a socket
 * write, so a run's replay of 30 events becomes one write instead of 30. Messages keep their
 * order; a message sent while a chunk is being written waits for the next one, and its `send`
 * resolves once that write is done, so a slow client slows its sender. Call `flush` before the
 * stream closes: the route writes with Hono's `stream.write` and flushes after the last event.
 * @internal
 */
export function createSseBatcher(write: (chunk: string) => Promise<unknown>): SseBatcher {
  let queued = '';
  let writing: Promise<void> | undefined;
  let scheduled = false;

  /** Writes the queued text until none is left (messages queued meanwhile go in the next chunk). */
  const drain = async () => {
    while (queued !== '') {
      const chunk = queued;
      queued = '';
      await write(chunk);
    }
  };
  const startDrain = () => {
    const current = drain().finally(() => {
      if (writing === current) writing = undefined;
    });
    writing = current;
    return current;
  };

  return {
    send(message) {
      queued += formatSseMessage(message);
      if (writing !== undefined) return writing;
      if (!scheduled) {
        scheduled = true;
        setImmediate(() => {
          scheduled = false;
          // A failed chunk rejects the `send` or `flush` that waits on it; nothing else to do here.
          if (writing === undefined && queued !== '') startDrain().catch(() => undefined);
        });
      }
      return Promise.resolve();
    },
    async flush() {
      for (;;) {
        if (writing !== undefined) await writing;
        else if (queued !== '') await startDrain();
        else return;
      }
    },
  };
}

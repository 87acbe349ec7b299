/** One Server-Sent Events message, as `streamSSE`'s `writeSSE` takes it. */
export interface SseMessage {
  /** The message's `event:` field (no line break). */
  readonly event?: string;
  /** The `data:` payload; each of its lines becomes a `data:` line. */
  readonly data: string;
  /** The `id:` field, which a reconnecting client sends back as `Last-Event-ID` (no line break). */
  readonly id?: string;
}

/**
 * The SSE wire text of one message, as Hono's `writeSSE` writes it. An event stream that has
 * several messages at once (a replay, a batch of stored events) writes their texts as one chunk:
 * each chunk costs a trip through the web streams, the HTTP layer and a socket write.
 * @internal
 */
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

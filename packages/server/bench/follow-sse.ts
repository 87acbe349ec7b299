import { clock } from './query-timings.ts';

/** What a client saw of one run's event stream. */
export interface FollowedStream {
  /** When the first response's headers arrived (epoch ms). */
  readonly openedAt: number;
  /** When each event (by seq) arrived (epoch ms, this process's clock). */
  readonly received: ReadonlyMap<number, number>;
  /** The terminal event's type, or undefined when the stream ended without one. */
  readonly terminal: string | undefined;
  /** Times the stream dropped before its terminal event and was resumed with `Last-Event-ID`. */
  readonly reconnects: number;
}

const TERMINAL = new Set(['run.completed', 'run.failed', 'run.cancelled']);

/**
 * Follows a run's Server-Sent Events over HTTP like a browser would, until its terminal event:
 * frames are parsed as they arrive and each event is stamped with the time its chunk was read.
 * A stream that drops early is resumed with `Last-Event-ID` (up to 5 times).
 */
export async function followSse(args: {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}): Promise<FollowedStream> {
  const received = new Map<number, number>();
  let openedAt = Number.NaN;
  let terminal: string | undefined;
  let lastSeq = 0;
  let reconnects = 0;
  for (let attempt = 0; attempt < 6 && terminal === undefined; attempt++) {
    if (attempt > 0) reconnects++;
    try {
      const response = await fetch(args.url, {
        headers: {
          ...args.headers,
          accept: 'text/event-stream',
          ...(lastSeq > 0 ? { 'last-event-id': String(lastSeq) } : {}),
        },
        ...(args.signal === undefined ? {} : { signal: args.signal }),
      });
      if (Number.isNaN(openedAt)) openedAt = clock();
      if (response.status !== 200 || response.body === null)
        throw new Error(`events: ${response.status} ${await response.text()}`);
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const at = clock();
        buffer += decoder.decode(value, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let id: number | undefined;
          let type: string | undefined;
          for (const line of frame.split('\n')) {
            if (line.startsWith('id:')) id = Number(line.slice(3).trim());
            else if (line.startsWith('event:')) type = line.slice(6).trim();
          }
          if (id === undefined || Number.isNaN(id)) continue; // a heartbeat comment
          if (!received.has(id)) received.set(id, at);
          lastSeq = Math.max(lastSeq, id);
          if (type !== undefined && TERMINAL.has(type)) terminal = type;
        }
        if (terminal !== undefined) {
          await reader.cancel().catch(() => {});
          break;
        }
      }
    } catch (error) {
      if (args.signal?.aborted) break;
      if (attempt === 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return { openedAt, received, terminal, reconnects };
}

import type { RunEvent } from '../graph/graph-types.ts';
import { isRunEvent, isTerminalEvent, RUN_EVENT_TYPES } from './run-state.ts';

/**
 * Follows a run's events (`GET /api/workflow/runs/{runId}/events`) with the browser's EventSource,
 * which reconnects by itself and sends `Last-Event-ID`, so nothing is missed. The stream is closed
 * after the terminal event (the server ends it there; reconnecting would only replay nothing).
 * Returns a function that stops following.
 */
export function followRun(
  runId: string,
  handlers: { readonly onEvent: (event: RunEvent) => void; readonly onEnd?: (event: RunEvent) => void },
): () => void {
  const source = new EventSource(`/api/workflow/runs/${encodeURIComponent(runId)}/events`);
  const onMessage = (message: MessageEvent<string>) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(message.data);
    } catch {
      return;
    }
    if (!isRunEvent(parsed)) return;
    handlers.onEvent(parsed);
    if (isTerminalEvent(parsed)) {
      source.close();
      handlers.onEnd?.(parsed);
    }
  };
  for (const type of RUN_EVENT_TYPES) source.addEventListener(type, onMessage);
  return () => source.close();
}

/** The dashboard stream's events (`GET /api/events`): hints to read the balance and runs again. */
export type UserEventType = 'run.finished' | 'credits.changed';

/**
 * Listens to `GET /api/events` with the browser's EventSource (which reconnects by itself). The
 * stream has no replay, so a reconnection counts as "anything may have changed" and calls both
 * handlers. Returns a function that stops listening.
 */
export function listenToUserEvents(handlers: Readonly<Record<UserEventType, () => void>>): () => void {
  const source = new EventSource('/api/events');
  let opened = false;
  source.addEventListener('open', () => {
    if (opened) {
      handlers['run.finished']();
      handlers['credits.changed']();
    }
    opened = true;
  });
  source.addEventListener('run.finished', () => handlers['run.finished']());
  source.addEventListener('credits.changed', () => handlers['credits.changed']());
  return () => source.close();
}

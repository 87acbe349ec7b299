import { createRoute, z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { createRouter, errorResponse } from '../http/create-router.ts';
import { requireUser } from '../http/require-auth.ts';
import type { UserEvent } from './user-event-hub.ts';

/** How long a quiet stream waits before a comment line keeps proxies from closing it. */
const HEARTBEAT_MS = 15_000;

/**
 * `GET /api/events`: the caller's dashboard stream (Server-Sent Events): `run.finished` and
 * `credits.changed` as they happen, with heartbeats, until the client goes away. Events are hints
 * without replay: after a reconnect the client reads the balance and its runs again.
 * Mount with `app.route('/', userEventsRoutes())`.
 * @internal
 */
export function userEventsRoutes() {
  const app = createRouter();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/events',
      tags: ['runs'],
      summary: 'Your dashboard stream: runs finished and credits changed (SSE)',
      security: [{ bearer: [] }],
      responses: {
        200: {
          description: 'An event stream: `run.finished` ({ runId, status }) and `credits.changed`',
          content: { 'text/event-stream': { schema: z.string() } },
        },
        401: errorResponse('Not signed in'),
      },
    }),
    async (c) => {
      const { userId } = requireUser(c);
      const hub = c.get('services').userEvents;
      return streamSSE(c, async (stream) => {
        const queue: UserEvent[] = [];
        let wake: (() => void) | undefined;
        let closed = false;
        const poke = () => {
          const resolve = wake;
          wake = undefined;
          resolve?.();
        };
        const unsubscribe = hub.subscribe(userId, (event) => {
          queue.push(event);
          poke();
        });
        stream.onAbort(() => {
          closed = true;
          poke();
        });
        try {
          await stream.write(': connected\n\n');
          while (!closed) {
            const event = queue.shift();
            if (event !== undefined) {
              await stream.writeSSE({ event: event.type, data: JSON.stringify(event) });
              continue;
            }
            let timer: NodeJS.Timeout | undefined;
            const idle = await new Promise<boolean>((resolve) => {
              wake = () => resolve(false);
              timer = setTimeout(() => resolve(true), HEARTBEAT_MS);
            });
            clearTimeout(timer);
            if (idle && !closed) await stream.write(': keep-alive\n\n');
          }
        } finally {
          unsubscribe();
        }
      });
    },
  );
  return app;
}

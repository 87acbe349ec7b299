import { createRoute, z } from '@hono/zod-openapi';
import { createRouter } from '../http/create-router.ts';
import { checkReadiness } from './check-readiness.ts';

const json = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } } }) as const;

const Liveness = z.object({ status: z.literal('ok') }).openapi('Liveness');
const ReadinessBody = z
  .object({
    status: z.enum(['ready', 'unavailable']),
    checks: z.object({
      database: z.enum(['ok', 'timeout', 'unreachable']),
      shutdown: z.enum(['ok', 'closing']),
    }),
  })
  .openapi('Readiness');

/**
 * Probes for orchestrators, public and outside `/api` (no authentication, no rate limit):
 * `GET /healthz` (liveness: 200 while the process answers) and `GET /readyz` (readiness: 200 when
 * the database answers `select 1` within 2 s and the services are not closing, else 503 naming
 * the failing check). Mount with `app.route('/', healthRoutes())`.
 * @internal
 */
export function healthRoutes() {
  const app = createRouter();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/healthz',
      tags: ['operations'],
      summary: 'Liveness: the process is up',
      responses: { 200: { description: 'Alive', ...json(Liveness) } },
    }),
    (c) => c.json({ status: 'ok' as const }, 200, { 'cache-control': 'no-store' }),
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/readyz',
      tags: ['operations'],
      summary: 'Readiness: the database answers and the server is not shutting down',
      responses: {
        200: { description: 'Ready for traffic', ...json(ReadinessBody) },
        503: { description: 'Not ready: the failing check says why', ...json(ReadinessBody) },
      },
    }),
    async (c) => {
      const services = c.get('services');
      const readiness = await checkReadiness({ db: services.db, isClosing: services.isClosing });
      const headers = { 'cache-control': 'no-store' };
      return readiness.ready
        ? c.json({ status: 'ready' as const, checks: readiness.checks }, 200, headers)
        : c.json({ status: 'unavailable' as const, checks: readiness.checks }, 503, headers);
    },
  );
  return app;
}

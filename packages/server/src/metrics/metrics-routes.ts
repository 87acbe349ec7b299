import { createHash, timingSafeEqual } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { findApiToken } from '../accounts/api-tokens.ts';
import { ApiError } from '../errors/api-error.ts';
import type { AppEnv } from '../http/app-env.ts';
import { createRouter, errorResponse } from '../http/create-router.ts';
import { requireAdmin } from '../http/require-auth.ts';
import { readSessionCookie } from '../http/session-cookie.ts';

/** Compares two secrets in constant time (their SHA-256, so lengths do not leak either). */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * Lets the scrape through for `Authorization: Bearer <VIDGENIE_METRICS_TOKEN>` or an admin (session
 * cookie or personal API token); 401 without valid credentials, 403 for a non-admin. `/metrics`
 * is outside `/api`, so the API's authentication middleware does not run here; a wrong Bearer
 * token counts against the caller address's request limit.
 */
async function authorizeScrape(c: Context<AppEnv>): Promise<void> {
  const { config, db, now, limits, findSession } = c.get('services');
  const header = c.req.header('authorization');
  if (header !== undefined) {
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    const expected = config.VIDGENIE_METRICS_TOKEN;
    if (token !== undefined && expected !== undefined && sameSecret(token, expected)) return;
    const found = token === undefined ? undefined : await findApiToken(db, { token, now: now() });
    if (found === undefined) {
      // Wrong tokens count against the address's request limit (429 once it is spent).
      await limits.consume('requestsPerIp', c.get('clientIp'));
      throw new ApiError('UNAUTHENTICATED', 'Send the metrics token as "Authorization: Bearer <token>".');
    }
    c.set('auth', { userId: found.userId, role: found.role, via: 'token' });
  } else {
    const session = readSessionCookie(c);
    const found = session === undefined ? undefined : await findSession({ token: session, now: now() });
    if (found !== undefined) c.set('auth', { userId: found.userId, role: found.role, via: 'session' });
  }
  requireAdmin(c);
}

/**
 * `GET /metrics`: the Prometheus text exposition of `services.metrics` (see `createMetrics`), for
 * the metrics token or an admin. Mount with `app.route('/', metricsRoutes())`.
 * @internal
 */
export function metricsRoutes() {
  const app = createRouter();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/metrics',
      tags: ['operations'],
      summary: 'Prometheus metrics (the metrics token, or an admin)',
      security: [{ bearer: [] }],
      responses: {
        200: {
          description: 'Metrics in the Prometheus text format',
          content: { 'text/plain': { schema: z.string() } },
        },
        401: errorResponse('No metrics token, API token or session'),
        403: errorResponse('Not an admin'),
      },
    }),
    async (c) => {
      await authorizeScrape(c);
      const { metrics } = c.get('services');
      const text = await metrics.scrape();
      return c.text(text, 200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
    },
  );
  return app;
}

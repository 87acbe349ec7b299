import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import { accountsRoutes } from '../accounts/accounts-routes.ts';
import { adminRoutes } from '../admin/admin-routes.ts';
import { contentsRoutes } from '../contents/contents-routes.ts';
import { ApiError } from '../errors/api-error.ts';
import { userEventsRoutes } from '../events/user-events-routes.ts';
import { creditsRoutes } from '../ledger/credits-routes.ts';
import { metricsRoutes } from '../metrics/metrics-routes.ts';
import { healthRoutes } from '../ops/health-routes.ts';
import { runsRoutes } from '../runs/runs-routes.ts';
import { templatesRoutes } from '../templates/templates-routes.ts';
import { vaultRoutes } from '../vault/vault-routes.ts';
import type { AppEnv, AppServices } from './app-env.ts';
import { authenticateRequest } from './authenticate-request.ts';
import { clientIp } from './client-ip.ts';
import { denyAnonymous } from './deny-anonymous.ts';
import { handleError } from './handle-error.ts';
import { rejectCrossSiteWrites } from './reject-cross-site-writes.ts';
import { findUiDir, serveUi } from './serve-ui.ts';

/**
 * The HTTP application: every API route behind the same middleware (request id, security headers,
 * body limit, authentication, CSRF check, rate limits) and one error shape. Serve it with
 * `@hono/node-server`, or call `app.request()` in tests.
 *
 * @example
 * ```ts
 * import { createApp, createServices, loadConfig } from '@vidgenie/server';
 * const services = await createServices(loadConfig({ VIDGENIE_DATA_DIR: './.vidgenie-example' }));
 * const app = createApp(services);
 * const response = await app.request('/api/health');
 * console.log(response.status); // 200
 * await services.close();
 * ```
 */
export function createApp(services: AppServices): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();
  const https = services.config.VIDGENIE_PUBLIC_URL?.startsWith('https://') ?? false;
  const mediaOrigins = services.mediaRedirects === undefined ? [] : [services.mediaRedirects.origin];

  app.use(requestId());
  app.use(
    createMiddleware<AppEnv>(async (c, next) => {
      c.set('services', services);
      c.set('auth', undefined);
      c.set('clientIp', clientIp(c, services.config.VIDGENIE_TRUST_PROXY));
      await next();
    }),
  );
  app.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
        // Media may redirect to presigned bucket (or CDN) URLs: that origin, and only it.
        imgSrc: ["'self'", 'data:', 'blob:', ...mediaOrigins],
        mediaSrc: ["'self'", 'blob:', ...mediaOrigins],
        formAction: ["'self'"],
      },
      strictTransportSecurity: https ? 'max-age=31536000; includeSubDomains' : false,
      xFrameOptions: 'DENY',
      referrerPolicy: 'strict-origin-when-cross-origin',
    }),
  );
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: services.config.VIDGENIE_BODY_LIMIT,
      onError: () => {
        throw new ApiError(
          'PAYLOAD_TOO_LARGE',
          `The request body is larger than ${services.config.VIDGENIE_BODY_LIMIT} bytes.`,
        );
      },
    }),
  );
  app.use('/api/*', authenticateRequest);
  app.use('/api/*', rejectCrossSiteWrites);
  app.use('/api/*', denyAnonymous);
  app.use(
    '/api/*',
    createMiddleware<AppEnv>(async (c, next) => {
      const auth = c.get('auth');
      if (auth === undefined) await services.limits.consume('requestsPerIp', c.get('clientIp'));
      else await services.limits.consume('requestsPerUser', auth.userId);
      await next();
    }),
  );

  app.get('/api/health', (c) => c.json({ status: 'ok' }));
  // Outside /api: no API middleware. Probes are public; /metrics checks its own credentials.
  app.route('/', healthRoutes());
  app.route('/', metricsRoutes());
  app.route('/', accountsRoutes());
  app.route('/', vaultRoutes());
  app.route('/', creditsRoutes());
  app.route('/', runsRoutes());
  app.route('/', userEventsRoutes());
  app.route('/', templatesRoutes());
  app.route('/', contentsRoutes());
  app.route('/', adminRoutes());

  app.doc31('/api/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'VidGenie API',
      version: '0.1.0',
      description:
        'Accounts, provider keys (BYOK) and credits. Authenticate with the session cookie (browser) or a personal API token: `Authorization: Bearer vgt_…`. Errors share one shape: `{ "error": { "code", "message", "details" } }`.',
    },
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });

  // Last: the creator app for every other GET outside /api (files, else index.html).
  const uiDir = findUiDir(services.config.VIDGENIE_UI_DIR);
  if (uiDir !== undefined) serveUi(app, uiDir);

  app.notFound((c) =>
    c.json(
      new ApiError('NOT_FOUND', `No route for ${c.req.method} ${new URL(c.req.url).pathname}.`).toBody(),
      404,
    ),
  );
  app.onError(handleError);
  return app;
}

import { createMiddleware } from 'hono/factory';
import type { AppEnv } from './app-env.ts';
import { requireUser } from './require-auth.ts';

/** The routes anyone may call, signed in or not. */
export const PUBLIC_ROUTES: ReadonlySet<string> = new Set([
  'GET /api/health',
  'GET /api/openapi.json',
  'POST /api/auth/signup',
  'POST /api/auth/login',
  'POST /api/auth/logout',
]);

/**
 * Deny by default: every API route needs a caller unless it is in {@link PUBLIC_ROUTES}. Runs before
 * the routes' validators, so an anonymous request gets 401 before any 400. Handlers still call
 * `requireUser` for the typed caller.
 * @internal
 */
export const denyAnonymous = createMiddleware<AppEnv>(async (c, next) => {
  if (!PUBLIC_ROUTES.has(`${c.req.method} ${c.req.path}`)) requireUser(c);
  await next();
});

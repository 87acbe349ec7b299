import { createMiddleware } from 'hono/factory';
import { ApiError } from '../errors/api-error.ts';
import type { AppEnv } from './app-env.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF defence for cookie-authenticated writes (ASVS 3.5.2): an unsafe request that carries no
 * Bearer token must come from our own origin. A browser always sends `Origin` on such requests; a
 * mismatch, or a missing `Origin` when a cookie is present and `Sec-Fetch-Site` is not
 * `same-origin`, is refused with 403 `CSRF_REJECTED`. Bearer requests carry no ambient credential.
 * @internal
 */
export const rejectCrossSiteWrites = createMiddleware<AppEnv>(async (c, next) => {
  if (SAFE_METHODS.has(c.req.method) || c.req.header('authorization') !== undefined) return next();
  const origin = c.req.header('origin');
  const allowed = allowedOrigin(c.get('services').config.VIDGENIE_PUBLIC_URL, c.req.url);
  if (origin !== undefined) {
    if (origin !== allowed) {
      throw new ApiError('CSRF_REJECTED', `Requests that change data must come from ${allowed}.`);
    }
    return next();
  }
  const hasCookie = (c.req.header('cookie') ?? '') !== '';
  if (hasCookie && c.req.header('sec-fetch-site') !== 'same-origin') {
    throw new ApiError(
      'CSRF_REJECTED',
      'Requests that change data must send an Origin header from this site.',
    );
  }
  return next();
});

function allowedOrigin(publicUrl: string | undefined, requestUrl: string): string {
  return new URL(publicUrl ?? requestUrl).origin;
}

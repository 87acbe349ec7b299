import { createMiddleware } from 'hono/factory';
import { findApiToken } from '../accounts/api-tokens.ts';
import { ApiError } from '../errors/api-error.ts';
import type { AppEnv } from './app-env.ts';
import { readSessionCookie } from './session-cookie.ts';

/**
 * Sets `auth` from a Bearer token (`Authorization: Bearer vgt_…`) or the session cookie. A Bearer
 * header that does not match a live token is a 401, never a silent fall-back to the cookie.
 * @internal
 */
export const authenticateRequest = createMiddleware<AppEnv>(async (c, next) => {
  const { db, now, findSession } = c.get('services');
  const header = c.req.header('authorization');
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const found =
      match?.[1] === undefined ? undefined : await findApiToken(db, { token: match[1], now: now() });
    if (found === undefined) {
      throw new ApiError(
        'UNAUTHENTICATED',
        'This API token is not valid (revoked, mistyped or not a VidGenie token).',
      );
    }
    c.set('auth', { userId: found.userId, role: found.role, via: 'token' });
    return next();
  }
  const token = readSessionCookie(c);
  if (token !== undefined) {
    const found = await findSession({ token, now: now() });
    if (found !== undefined) c.set('auth', { userId: found.userId, role: found.role, via: 'session' });
  }
  return next();
});

import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { SESSION_ABSOLUTE_MS } from '../accounts/sessions.ts';
import type { AppEnv } from './app-env.ts';

/**
 * The session cookie's name: `__Host-` prefixed (Secure, host-only, Path=/) when the server is
 * served over HTTPS; plain on http://localhost, where browsers would drop a `__Host-` cookie.
 * @internal
 */
export function sessionCookieName(secure: boolean): string {
  return secure ? `__Host-${SESSION_COOKIE}` : SESSION_COOKIE;
}

const SESSION_COOKIE = 'vidgenie_session';

/** Whether cookies must be `Secure`: the public URL is HTTPS. @internal */
export function isSecureDeployment(c: Context<AppEnv>): boolean {
  return c.get('services').config.VIDGENIE_PUBLIC_URL?.startsWith('https://') ?? false;
}

/** The session token from the request's cookie, if any. @internal */
export function readSessionCookie(c: Context<AppEnv>): string | undefined {
  return isSecureDeployment(c) ? getCookie(c, SESSION_COOKIE, 'host') : getCookie(c, SESSION_COOKIE);
}

/** Sets the session cookie: HttpOnly, SameSite=Lax, Path=/, Secure over HTTPS. @internal */
export function writeSessionCookie(c: Context<AppEnv>, token: string): void {
  const secure = isSecureDeployment(c);
  // Hono adds the `__Host-` prefix itself when `prefix: 'host'` is set.
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'Lax',
    secure,
    path: '/',
    maxAge: Math.floor(SESSION_ABSOLUTE_MS / 1000),
    ...(secure ? { prefix: 'host' as const } : {}),
  });
}

/** Clears the session cookie. @internal */
export function clearSessionCookie(c: Context<AppEnv>): void {
  const secure = isSecureDeployment(c);
  deleteCookie(c, SESSION_COOKIE, { path: '/', secure, ...(secure ? { prefix: 'host' as const } : {}) });
}

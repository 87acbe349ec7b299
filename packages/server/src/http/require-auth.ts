import type { Context } from 'hono';
import { ApiError } from '../errors/api-error.ts';
import type { AppEnv, AuthContext } from './app-env.ts';

/**
 * The caller, or a 401 `UNAUTHENTICATED` error. Call it first in every route that touches a
 * user's data, and scope every query by the returned `userId`.
 */
export function requireUser(c: Context<AppEnv>): AuthContext {
  const auth = c.get('auth');
  if (auth === undefined)
    throw new ApiError(
      'UNAUTHENTICATED',
      'Sign in, or send a personal API token as "Authorization: Bearer <token>".',
    );
  return auth;
}

/** The caller if they are an admin; 401 when not signed in, 403 `FORBIDDEN` otherwise. */
export function requireAdmin(c: Context<AppEnv>): AuthContext {
  const auth = requireUser(c);
  if (auth.role !== 'admin') throw new ApiError('FORBIDDEN', 'This action needs an admin account.');
  return auth;
}

import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { ApiError } from '../errors/api-error.ts';
import type { AppEnv } from '../http/app-env.ts';
import { createRouter, errorResponse } from '../http/create-router.ts';
import { requireUser } from '../http/require-auth.ts';
import { clearSessionCookie, readSessionCookie, writeSessionCookie } from '../http/session-cookie.ts';
import { createApiToken, listApiTokens, revokeApiToken } from './api-tokens.ts';
import { createSession, deleteOtherSessions, deleteSession } from './sessions.ts';
import { authenticate, findUser, type PublicUser, signUp } from './users.ts';

const Email = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.email({ error: 'must be an email address such as ada@example.com' }).max(254))
  .openapi({ example: 'ada@example.com' });
const NewPassword = z
  .string()
  .min(10, 'must be at least 10 characters')
  .max(256, 'must be at most 256 characters')
  .openapi({ example: 'correct horse battery staple' });
const Credentials = z.object({ email: Email, password: z.string().min(1, 'is required').max(256) });

const UserSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    role: z.enum(['user', 'admin']),
    createdAt: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('User');
const UserResponse = z.object({ user: UserSchema });
const TokenSummary = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string().openapi({ example: 'vgt_AbCd' }),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
  })
  .openapi('ApiToken');

const json = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } } }) as const;
const body = <T extends z.ZodType>(schema: T) => ({ body: { required: true, ...json(schema) } }) as const;

function userJson(user: PublicUser) {
  return {
    user: { id: user.id, email: user.email, role: user.role, createdAt: user.createdAt.toISOString() },
  };
}

async function startSession(c: Context<AppEnv>, userId: string): Promise<void> {
  const { db, now } = c.get('services');
  const previous = readSessionCookie(c);
  if (previous !== undefined) await deleteSession(db, previous);
  writeSessionCookie(c, await createSession(db, { userId, now: now() }));
}

/**
 * Accounts: sign-up, sign-in, sign-out, the current user, and personal API tokens.
 * @internal
 */
export function accountsRoutes() {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/auth/signup',
      tags: ['accounts'],
      summary: 'Create an account (free plan) and sign in',
      request: body(z.object({ email: Email, password: NewPassword })),
      responses: {
        201: { description: 'Signed up; the session cookie is set.', ...json(UserResponse) },
        400: errorResponse('Invalid email or password'),
        403: errorResponse('Sign-up is closed on this server'),
        409: errorResponse('Email already registered'),
        429: errorResponse('Too many sign-ups from this address'),
      },
    }),
    async (c) => {
      const services = c.get('services');
      if (!services.config.VIDGENIE_SIGNUP) {
        throw new ApiError('FORBIDDEN', 'Sign-up is closed on this server: ask an admin for an account.');
      }
      await services.limits.consume('signupPerIp', c.get('clientIp'));
      const { email, password } = c.req.valid('json');
      const user = await signUp(services.db, {
        email,
        password,
        ledger: services.ledger,
        ip: c.get('clientIp'),
      });
      await startSession(c, user.id);
      services.log.info({ userId: user.id, requestId: c.get('requestId') }, 'user signed up');
      return c.json(userJson(user), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/auth/login',
      tags: ['accounts'],
      summary: 'Sign in with email and password',
      request: body(Credentials),
      responses: {
        200: { description: 'Signed in; a new session cookie is set.', ...json(UserResponse) },
        401: errorResponse('Wrong email or password'),
        429: errorResponse('Too many attempts'),
      },
    }),
    async (c) => {
      const services = c.get('services');
      const { email, password } = c.req.valid('json');
      await services.limits.consume('loginPerIp', c.get('clientIp'));
      await services.limits.consume('loginPerEmail', email);
      const user = await authenticate(services.db, { email, password });
      await services.limits.reset('loginPerEmail', email);
      await startSession(c, user.id);
      return c.json(userJson(user), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/auth/logout',
      tags: ['accounts'],
      summary: 'Sign out: ends this session',
      responses: { 204: { description: 'Signed out' } },
    }),
    async (c) => {
      const token = readSessionCookie(c);
      if (token !== undefined) await deleteSession(c.get('services').db, token);
      clearSessionCookie(c);
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/auth/sessions/revoke-others',
      tags: ['accounts'],
      summary: 'Sign out everywhere else: ends every other session of this account',
      responses: {
        200: { description: 'How many sessions ended', ...json(z.object({ ended: z.number().int() })) },
        401: errorResponse('Not signed in'),
      },
    }),
    async (c) => {
      const { userId } = requireUser(c);
      const ended = await deleteOtherSessions(c.get('services').db, {
        userId,
        keepToken: readSessionCookie(c),
      });
      return c.json({ ended }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/auth/me',
      tags: ['accounts'],
      summary: 'The signed-in user',
      responses: {
        200: { description: 'The user', ...json(UserResponse) },
        401: errorResponse('Not signed in'),
      },
    }),
    async (c) => {
      const { userId } = requireUser(c);
      const user = await findUser(c.get('services').db, userId);
      if (user === undefined) throw new ApiError('UNAUTHENTICATED', 'This account no longer exists.');
      return c.json(userJson(user), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/user/tokens',
      tags: ['accounts'],
      summary: 'Your personal API tokens (never the token itself)',
      responses: {
        200: { description: 'Tokens, newest first', ...json(z.object({ tokens: z.array(TokenSummary) })) },
        401: errorResponse('Not signed in'),
      },
    }),
    async (c) => {
      const { userId } = requireUser(c);
      const tokens = await listApiTokens(c.get('services').db, userId);
      return c.json({ tokens: tokens.map(tokenJson) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/user/tokens',
      tags: ['accounts'],
      summary: 'Create a personal API token (shown once)',
      request: body(z.object({ name: z.string().trim().min(1, 'is required').max(100) })),
      responses: {
        201: {
          description: 'The token: copy it now, it is never shown again',
          ...json(z.object({ token: z.string(), apiToken: TokenSummary })),
        },
        401: errorResponse('Not signed in'),
      },
    }),
    async (c) => {
      const { userId } = requireUser(c);
      const created = await createApiToken(c.get('services').db, { userId, name: c.req.valid('json').name });
      return c.json({ token: created.token, apiToken: tokenJson(created) }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/user/tokens/{tokenId}',
      tags: ['accounts'],
      summary: 'Revoke a personal API token',
      request: { params: z.object({ tokenId: z.string().min(1).max(100) }) },
      responses: {
        204: { description: 'Revoked' },
        401: errorResponse('Not signed in'),
        404: errorResponse('No such token'),
      },
    }),
    async (c) => {
      const { userId } = requireUser(c);
      const { db, now } = c.get('services');
      await revokeApiToken(db, { userId, tokenId: c.req.valid('param').tokenId, now: now() });
      return c.body(null, 204);
    },
  );

  return app;
}

function tokenJson(token: {
  id: string;
  name: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}) {
  return {
    id: token.id,
    name: token.name,
    prefix: token.prefix,
    createdAt: token.createdAt.toISOString(),
    lastUsedAt: token.lastUsedAt?.toISOString() ?? null,
  };
}

import { expect, it } from 'vitest';
import { createTestApp, sessionCookieOf, type TestApp } from './support/test-app.ts';
import { describeEachDatabase } from './support/test-databases.ts';

async function errorOf(
  response: Response,
): Promise<{ code: string; message: string; details?: Record<string, unknown> }> {
  const body = (await response.json()) as {
    error: { code: string; message: string; details?: Record<string, unknown> };
  };
  return body.error;
}

describeEachDatabase('accounts', ({ database }) => {
  let t: TestApp;
  const app = async () => {
    t ??= await createTestApp(database());
    return t;
  };

  it('signs up, sets an HttpOnly SameSite=Lax session cookie, and knows the user', async () => {
    const t = await app();
    const response = await t.request('POST', '/api/auth/signup', {
      email: ' Ada@Example.com ',
      password: 'long enough password',
    });
    expect(response.status).toBe(201);
    const setCookie = response.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^vidgenie_session=/);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Lax');
    expect(setCookie).toContain('Path=/');
    expect(setCookie).not.toContain('Secure');
    const me = await t.request('GET', '/api/auth/me', undefined, { cookie: sessionCookieOf(response) });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { user: { email: string } }).user.email).toBe('ada@example.com');
  });

  it('explains what is wrong with a sign-up and creates nothing', async () => {
    const t = await app();
    const response = await t.request('POST', '/api/auth/signup', {
      email: 'not-an-email',
      password: 'short',
    });
    expect(response.status).toBe(400);
    const error = await errorOf(response);
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.details?.issues).toEqual([
      { path: 'email', message: 'must be an email address such as ada@example.com' },
      { path: 'password', message: 'must be at least 10 characters' },
    ]);
    // The message says it in words a person can act on (the sign-up form shows it as is).
    expect(error.message).toBe(
      'Email must be an email address such as ada@example.com. Password must be at least 10 characters.',
    );
    const count = await t.services.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('email', '=', 'not-an-email')
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(0);
  });

  it('refuses a second account with the same email (409) and a body that is not JSON (400)', async () => {
    const t = await app();
    const user = await t.signUp();
    const again = await t.request('POST', '/api/auth/signup', {
      email: user.email,
      password: 'another long password',
    });
    expect(again.status).toBe(409);
    expect((await errorOf(again)).code).toBe('CONFLICT');
    const malformed = await t.request('POST', '/api/auth/signup', '{"email":');
    expect(malformed.status).toBe(400);
    expect((await errorOf(malformed)).code).toBe('VALIDATION_FAILED');
  });

  it('makes exactly one admin: the first account of the installation', async () => {
    const t = await app();
    await t.signUp();
    await t.signUp();
    const admins = await t.services.db.selectFrom('users').select('id').where('role', '=', 'admin').execute();
    expect(admins).toHaveLength(1);
  });

  it('signs in with a fresh session, and gives one message for a wrong password or an unknown email', async () => {
    const t = await app();
    const user = await t.signUp();
    const login = await t.request(
      'POST',
      '/api/auth/login',
      { email: user.email, password: user.password },
      { cookie: user.cookie },
    );
    expect(login.status).toBe(200);
    const fresh = sessionCookieOf(login);
    expect(fresh).not.toBe(user.cookie);
    // The session the login replaced is gone (ASVS 7.2.4).
    expect((await t.request('GET', '/api/auth/me', undefined, { cookie: user.cookie })).status).toBe(401);
    expect((await t.request('GET', '/api/auth/me', undefined, { cookie: fresh })).status).toBe(200);

    const wrong = await t.request('POST', '/api/auth/login', {
      email: user.email,
      password: 'wrong password!',
    });
    const unknown = await t.request('POST', '/api/auth/login', {
      email: 'nobody@example.com',
      password: 'wrong password!',
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(await errorOf(wrong)).toEqual(await errorOf(unknown));
  });

  it('logs out: the session cookie stops working', async () => {
    const t = await app();
    const user = await t.signUp();
    const logout = await user.request('POST', '/api/auth/logout');
    expect(logout.status).toBe(204);
    expect(logout.headers.get('set-cookie')).toMatch(/vidgenie_session=;.*Max-Age=0/);
    const me = await user.request('GET', '/api/auth/me');
    expect(me.status).toBe(401);
    expect((await errorOf(me)).code).toBe('UNAUTHENTICATED');
  });

  it('ends other sessions on request', async () => {
    const t = await app();
    const user = await t.signUp();
    const second = sessionCookieOf(
      await t.request('POST', '/api/auth/login', { email: user.email, password: user.password }),
    );
    const ended = await t.request('POST', '/api/auth/sessions/revoke-others', undefined, { cookie: second });
    expect(await ended.json()).toEqual({ ended: 1 });
    expect((await user.request('GET', '/api/auth/me')).status).toBe(401);
    expect((await t.request('GET', '/api/auth/me', undefined, { cookie: second })).status).toBe(200);
  });

  it('issues personal API tokens that work as Bearer, are listed without the secret, and can be revoked', async () => {
    const t = await app();
    const user = await t.signUp();
    const created = await user.request('POST', '/api/user/tokens', { name: 'ci' });
    expect(created.status).toBe(201);
    const { token, apiToken } = (await created.json()) as {
      token: string;
      apiToken: { id: string; prefix: string };
    };
    expect(token).toMatch(/^vgt_[A-Za-z0-9_-]{43}$/);
    expect(token.startsWith(apiToken.prefix)).toBe(true);

    const bearer = { authorization: `Bearer ${token}` };
    const me = await t.request('GET', '/api/auth/me', undefined, bearer);
    expect(((await me.json()) as { user: { id: string } }).user.id).toBe(user.id);

    const list = await (await user.request('GET', '/api/user/tokens')).text();
    expect(list).toContain(apiToken.id);
    expect(list).not.toContain(token);
    const stored = await t.services.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('id', '=', apiToken.id)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(stored)).not.toContain(token);

    const other = await t.signUp();
    expect((await other.request('DELETE', `/api/user/tokens/${apiToken.id}`)).status).toBe(404);
    expect((await user.request('DELETE', `/api/user/tokens/${apiToken.id}`)).status).toBe(204);
    const after = await t.request('GET', '/api/auth/me', undefined, bearer);
    expect(after.status).toBe(401);
    expect(
      (await t.request('GET', '/api/auth/me', undefined, { authorization: 'Bearer vgt_nope' })).status,
    ).toBe(401);
  });

  it('answers unknown routes with the JSON error shape', async () => {
    const t = await app();
    // Anonymous callers learn nothing about which routes exist.
    expect((await t.request('GET', '/api/nope')).status).toBe(401);
    const user = await t.signUp();
    const response = await user.request('GET', '/api/nope');
    expect(response.status).toBe(404);
    expect(await errorOf(response)).toEqual({ code: 'NOT_FOUND', message: 'No route for GET /api/nope.' });
  });
});

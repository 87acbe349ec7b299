import { expect, it } from 'vitest';
import { createTestApp, sessionCookieOf } from './support/test-app.ts';
import { describeEachDatabase } from './support/test-databases.ts';

describeEachDatabase('web security', ({ database }) => {
  it('refuses cookie-authenticated writes from another origin, or without one (CSRF)', async () => {
    const t = await createTestApp(database());
    const user = await t.signUp();
    const evil = await user.request(
      'POST',
      '/api/user/tokens',
      { name: 'x' },
      { origin: 'https://evil.example' },
    );
    expect(evil.status).toBe(403);
    expect(((await evil.json()) as { error: { code: string } }).error.code).toBe('CSRF_REJECTED');

    const noOrigin = await t.app.request('/api/user/tokens', {
      method: 'POST',
      headers: { cookie: user.cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x' }),
    });
    expect(noOrigin.status).toBe(403);
    const sameSite = await t.app.request('/api/user/tokens', {
      method: 'POST',
      headers: { cookie: user.cookie, 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
      body: JSON.stringify({ name: 'x' }),
    });
    expect(sameSite.status).toBe(201);
    // A form post (a CORS-safelisted content type) is not accepted as JSON either.
    const form = await user.request('POST', '/api/user/tokens', 'name=x', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(form.status).toBe(415);
    expect(((await form.json()) as { error: { code: string } }).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    // GET never changes state, so it is not checked; Bearer requests carry no ambient credential.
    expect(
      (await user.request('GET', '/api/auth/me', undefined, { origin: 'https://evil.example' })).status,
    ).toBe(200);
    const { token } = (await (await user.request('POST', '/api/user/tokens', { name: 'bearer' })).json()) as {
      token: string;
    };
    const bearer = await t.app.request('/api/user/tokens', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'from a script' }),
    });
    expect(bearer.status).toBe(201);
  });

  it('sends the security headers; HSTS and a __Host- Secure cookie only over HTTPS', async () => {
    const plain = await createTestApp(database());
    const response = await plain.request('GET', '/api/health');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("base-uri 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('strict-transport-security')).toBeNull();

    const https = await createTestApp(database(), {
      env: { VIDGENIE_PUBLIC_URL: 'https://vidgenie.example.com' },
    });
    const signup = await https.request(
      'POST',
      '/api/auth/signup',
      { email: `tls-${Date.now()}@example.com`, password: 'long enough password' },
      { origin: 'https://vidgenie.example.com' },
    );
    expect(signup.status).toBe(201);
    const cookie = signup.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^__Host-vidgenie_session=/);
    expect(cookie).toContain('Secure');
    expect(cookie).toContain('HttpOnly');
    expect(signup.headers.get('strict-transport-security')).toMatch(/max-age=31536000/);
    const me = await https.request('GET', '/api/auth/me', undefined, { cookie: sessionCookieOf(signup) });
    expect(me.status).toBe(200);
    // The public URL is the only origin accepted for writes.
    const local = await https.request('POST', '/api/auth/logout', undefined, {
      cookie: sessionCookieOf(signup),
    });
    expect(local.status).toBe(403);
  });

  it('refuses a body over the limit with 413 before reading it all', async () => {
    const t = await createTestApp(database(), { env: { VIDGENIE_BODY_LIMIT: '2048' } });
    const response = await t.request('POST', '/api/auth/login', {
      email: 'a@example.com',
      password: 'x'.repeat(5000),
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('rate-limits sign-ups per client address with 429 and Retry-After', async () => {
    const t = await createTestApp(database(), { rateLimitScale: 1, env: { VIDGENIE_TRUST_PROXY: 'true' } });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 6; i++) {
      last = await t.request(
        'POST',
        '/api/auth/signup',
        { email: `burst-${i}-${Date.now()}@example.com`, password: 'long enough password' },
        { 'x-forwarded-for': '203.0.113.7' },
      );
      statuses.push(last.status);
    }
    expect(statuses).toEqual([201, 201, 201, 201, 201, 429]);
    expect(Number(last?.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another address is not affected.
    const other = await t.request(
      'POST',
      '/api/auth/signup',
      { email: `other-${Date.now()}@example.com`, password: 'long enough password' },
      { 'x-forwarded-for': '203.0.113.8' },
    );
    expect(other.status).toBe(201);
  });

  it('rate-limits sign-in attempts per email', async () => {
    const t = await createTestApp(database(), { rateLimitScale: 1, env: { VIDGENIE_TRUST_PROXY: 'true' } });
    const user = await t.signUp();
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      const response = await t.request(
        'POST',
        '/api/auth/login',
        { email: user.email, password: 'wrong password' },
        { 'x-forwarded-for': `198.51.100.${i}` },
      );
      statuses.push(response.status);
    }
    expect(statuses.slice(0, 10).every((status) => status === 401)).toBe(true);
    expect(statuses[10]).toBe(429);
  });

  it('ends a session after 7 idle days', async () => {
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const t = await createTestApp(database(), { now: () => new Date(clock) });
    const user = await t.signUp();
    clock += 6 * 24 * 3600_000;
    expect((await user.request('GET', '/api/auth/me')).status).toBe(200);
    clock += 6 * 24 * 3600_000; // active 6 days ago: still in
    expect((await user.request('GET', '/api/auth/me')).status).toBe(200);
    clock += 8 * 24 * 3600_000;
    expect((await user.request('GET', '/api/auth/me')).status).toBe(401);
  });

  it('serves an OpenAPI 3.1 document listing the routes', async () => {
    const t = await createTestApp(database());
    const response = await t.request('GET', '/api/openapi.json');
    expect(response.status).toBe(200);
    const doc = (await response.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/auth/signup',
        '/api/auth/login',
        '/api/user/tokens',
        '/api/user/api-keys',
        '/api/credits/balance',
      ]),
    );
  });
});

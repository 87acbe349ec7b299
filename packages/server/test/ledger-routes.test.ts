/**
 * The credits routes mounted on a bare app whose middleware sets the services and the caller from
 * test headers (the real app's authentication is tested with the accounts).
 */

import { OpenAPIHono } from '@hono/zod-openapi';
import { CREDIT_PRICES, createProviderRegistry, localProviders, shortVideoTemplate } from '@vidgenie/nodes';
import { createMiddleware } from 'hono/factory';
import pino from 'pino';
import { beforeAll, expect, it } from 'vitest';
import type { UserRole } from '../src/db/schema.ts';
import { createUserEventHub } from '../src/events/user-event-hub.ts';
import type { AppEnv, AppServices } from '../src/http/app-env.ts';
import { denyAnonymous } from '../src/http/deny-anonymous.ts';
import { handleError } from '../src/http/handle-error.ts';
import { type CreditLedger, createCreditLedger } from '../src/ledger/credit-ledger.ts';
import { creditsRoutes } from '../src/ledger/credits-routes.ts';
import { insertUser, testClock, uniqueId, userWithAccount } from './support/ledger-fixtures.ts';
import { describeEachDatabase } from './support/test-databases.ts';

describeEachDatabase('credits routes', ({ db }) => {
  const clock = testClock();
  let ledger: CreditLedger;
  let app: OpenAPIHono<AppEnv>;
  beforeAll(() => {
    ledger = createCreditLedger({ db: db(), now: clock.now });
    // Only what the credits routes use; the real services are built by createServices.
    const services = {
      db: db(),
      ledger,
      providers: createProviderRegistry(localProviders()),
      log: pino({ level: 'silent' }),
      userEvents: createUserEventHub(),
      now: clock.now,
    } as unknown as AppServices;
    app = new OpenAPIHono<AppEnv>();
    app.use(
      createMiddleware<AppEnv>(async (c, next) => {
        c.set('services', services);
        const userId = c.req.header('x-test-user');
        const role = (c.req.header('x-test-role') ?? 'user') as UserRole;
        c.set('auth', userId === undefined ? undefined : { userId, role, via: 'token' });
        c.set('requestId', 'test');
        await next();
      }),
    );
    app.use('/api/*', denyAnonymous);
    app.route('/', creditsRoutes());
    app.onError(handleError);
  });

  const call = async (
    method: string,
    path: string,
    options: { user?: string; role?: UserRole; body?: unknown } = {},
  ) => {
    const response = await app.request(path, {
      method,
      headers: {
        ...(options.user === undefined ? {} : { 'x-test-user': options.user }),
        ...(options.role === undefined ? {} : { 'x-test-role': options.role }),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('every route needs a signed-in caller', async () => {
    for (const [method, path] of [
      ['GET', '/api/credits/balance'],
      ['GET', '/api/credits/history'],
      ['POST', '/api/workflow/estimate'],
      ['POST', '/api/admin/credits/grant'],
    ] as const) {
      const { status, body } = await call(method, path, method === 'POST' ? { body: {} } : {});
      expect([path, status, (body.error as { code: string }).code]).toEqual([path, 401, 'UNAUTHENTICATED']);
    }
  });

  it('GET /api/credits/balance answers the figures of the caller', async () => {
    const userId = await userWithAccount(db(), ledger);
    const hold = await ledger.reserve({ userId, runId: uniqueId('run'), amount: 20, expiresInMs: 60_000 });
    await ledger.capture({ holdId: hold.id, nodeId: 'image', amount: 3 });
    expect(await call('GET', '/api/credits/balance', { user: userId })).toEqual({
      status: 200,
      body: {
        plan: 'free',
        balance: 97,
        held: 17,
        available: 80,
        unlimited: false,
        periodStart: '2030-01-15T12:00:00.000Z',
        renewsAt: '2030-02-15T12:00:00.000Z',
        usedToday: 3,
        usedThisWeek: 3,
      },
    });
  });

  it('GET /api/credits/history pages newest first with a cursor, and validates its query', async () => {
    const userId = await userWithAccount(db(), ledger);
    for (let i = 1; i <= 3; i++) await ledger.grant({ userId, amount: i, reason: `gift ${i}` });
    const first = await call('GET', '/api/credits/history?limit=2', { user: userId });
    expect(first.status).toBe(200);
    const entries = first.body.entries as { kind: string; amount: number; reason: string }[];
    expect(entries.map((e) => [e.kind, e.amount, e.reason])).toEqual([
      ['grant', 3, 'gift 3'],
      ['grant', 2, 'gift 2'],
    ]);
    expect(entries[0]).toMatchObject({ balanceDelta: 3, heldDelta: 0, runId: null, nodeId: null });
    const next = await call('GET', `/api/credits/history?limit=2&cursor=${String(first.body.nextCursor)}`, {
      user: userId,
    });
    expect((next.body.entries as { reason: string }[]).map((e) => e.reason)).toEqual([
      'gift 1',
      'Free plan: 100 credits for the month',
    ]);
    expect(next.body.nextCursor).toBeNull();
    for (const query of ['limit=0', 'limit=101', 'limit=x', 'cursor=-1', 'cursor=abc']) {
      const bad = await call('GET', `/api/credits/history?${query}`, { user: userId });
      expect([query, bad.status, (bad.body.error as { code: string }).code]).toEqual([
        query,
        400,
        'VALIDATION_FAILED',
      ]);
    }
  });

  it("POST /api/workflow/estimate prices the short-video template per node, with the caller's available credits", async () => {
    const userId = await userWithAccount(db(), ledger);
    const { status, body } = await call('POST', '/api/workflow/estimate', {
      user: userId,
      body: shortVideoTemplate({ prompt: 'a red fox in the snow', imageSize: 'large', durationSeconds: 15 }),
    });
    expect(status).toBe(200);
    const total = CREDIT_PRICES.enhance + CREDIT_PRICES.image.large + CREDIT_PRICES.video[15];
    expect(body).toEqual({
      total,
      nodes: [
        { nodeId: 'prompt', nodeType: 'prompt', cost: 0 },
        { nodeId: 'enhance', nodeType: 'enhance', cost: CREDIT_PRICES.enhance },
        { nodeId: 'image', nodeType: 'image', cost: CREDIT_PRICES.image.large },
        { nodeId: 'video', nodeType: 'video', cost: CREDIT_PRICES.video[15] },
        { nodeId: 'output', nodeType: 'output', cost: 0 },
      ],
      available: 100,
      enough: total <= 100,
    });
  });

  it('an invalid graph is a 400 GRAPH_INVALID listing every issue with its node ids', async () => {
    const userId = await userWithAccount(db(), ledger);
    const graph = shortVideoTemplate({ prompt: 'x' });
    const broken = {
      ...graph,
      nodes: [
        ...graph.nodes.map((node) =>
          node.id === 'video' ? { ...node, config: { ...node.config, durationSeconds: 7 } } : node,
        ),
        { id: 'mystery', type: 'teleport', config: {} },
      ],
    };
    const { status, body } = await call('POST', '/api/workflow/estimate', { user: userId, body: broken });
    expect(status).toBe(400);
    const error = body.error as { code: string; details: { issues: { code: string; nodeId?: string }[] } };
    expect(error.code).toBe('GRAPH_INVALID');
    expect(error.details.issues.map((issue) => [issue.code, issue.nodeId])).toEqual(
      expect.arrayContaining([
        ['INVALID_CONFIG', 'video'],
        ['UNKNOWN_NODE_TYPE', 'mystery'],
      ]),
    );
    const garbage = await call('POST', '/api/workflow/estimate', { user: userId, body: { nodes: 'no' } });
    expect(garbage.status).toBe(400);
    expect((garbage.body.error as { code: string }).code).toBe('GRAPH_INVALID');
  });

  it('POST /api/admin/credits/grant is for admins, by user id or email, idempotent per key', async () => {
    const admin = await insertUser(db(), { role: 'admin' });
    const userId = await userWithAccount(db(), ledger);
    const body = { userId, amount: 250, reason: 'Launch promo', idempotencyKey: 'promo-1' };

    const refused = await call('POST', '/api/admin/credits/grant', { user: userId, body });
    expect([refused.status, (refused.body.error as { code: string }).code]).toEqual([403, 'FORBIDDEN']);
    // Refused before the body is even validated.
    const refusedEarly = await call('POST', '/api/admin/credits/grant', {
      user: userId,
      body: { amount: -1 },
    });
    expect(refusedEarly.status).toBe(403);

    const granted = await call('POST', '/api/admin/credits/grant', { user: admin, role: 'admin', body });
    expect(granted).toMatchObject({ status: 200, body: { userId, balance: 350, held: 0, replayed: false } });
    const again = await call('POST', '/api/admin/credits/grant', { user: admin, role: 'admin', body });
    expect(again).toMatchObject({
      status: 200,
      body: { entryId: granted.body.entryId, balance: 350, replayed: true },
    });
    const conflict = await call('POST', '/api/admin/credits/grant', {
      user: admin,
      role: 'admin',
      body: { ...body, amount: 1 },
    });
    expect([conflict.status, (conflict.body.error as { code: string }).code]).toEqual([
      409,
      'IDEMPOTENCY_CONFLICT',
    ]);

    const email = `${userId.toLowerCase()}@example.com`;
    const byEmail = await call('POST', '/api/admin/credits/grant', {
      user: admin,
      role: 'admin',
      body: { email: email.toUpperCase(), amount: 5, reason: 'By email' },
    });
    expect(byEmail).toMatchObject({ status: 200, body: { userId, balance: 355 } });
    expect((await ledger.history(userId, { limit: 1 })).entries[0]).toMatchObject({
      kind: 'grant',
      reason: 'By email',
    });
  });

  it('the admin grant validates its body and answers 404 for an unknown user', async () => {
    const admin = await insertUser(db(), { role: 'admin' });
    const asAdmin = (body: unknown) =>
      call('POST', '/api/admin/credits/grant', { user: admin, role: 'admin', body });
    for (const body of [
      { amount: 5, reason: 'no target' },
      { userId: 'usr_x', email: 'a@example.com', amount: 5, reason: 'both targets' },
      { userId: 'usr_x', amount: 0, reason: 'zero' },
      { userId: 'usr_x', amount: -5, reason: 'negative: no deducting through this route' },
      { userId: 'usr_x', amount: 2.5, reason: 'fraction' },
      { userId: 'usr_x', amount: 5, reason: '' },
    ]) {
      const { status, body: answer } = await asAdmin(body);
      expect([body.reason, status, (answer.error as { code: string }).code]).toEqual([
        body.reason,
        400,
        'VALIDATION_FAILED',
      ]);
    }
    const missing = await asAdmin({ userId: uniqueId('usr'), amount: 5, reason: 'ghost' });
    expect([missing.status, (missing.body.error as { code: string }).code]).toEqual([404, 'NOT_FOUND']);
  });

  it('offers no route that deducts credits', async () => {
    const userId = await userWithAccount(db(), ledger);
    for (const path of ['/api/credits/deduct', '/api/credits/capture', '/api/credits/reserve']) {
      const response = await app.request(path, {
        method: 'POST',
        headers: { 'x-test-user': userId, 'content-type': 'application/json' },
        body: JSON.stringify({ amount: 10 }),
      });
      expect(response.status).toBe(404);
    }
    expect((await ledger.balance(userId)).balance).toBe(100);
  });
});

import { createRoute, type z } from '@hono/zod-openapi';
import { createMiddleware } from 'hono/factory';
import { ApiError } from '../errors/api-error.ts';
import type { AppEnv } from '../http/app-env.ts';
import { createRouter, errorResponse } from '../http/create-router.ts';
import { requireAdmin, requireUser } from '../http/require-auth.ts';
import {
  BalanceResponse,
  EstimateBody,
  EstimateResponse,
  GrantBody,
  GrantResponse,
  HistoryQuery,
  HistoryResponse,
} from './credits-schemas.ts';
import { estimateWorkflow } from './estimate-workflow.ts';

const json = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } } }) as const;
const security = [{ bearer: [] }];
/** Route middleware runs before the validators: a non-admin gets 403 before any 400. */
const adminOnly = createMiddleware<AppEnv>(async (c, next) => {
  requireAdmin(c);
  await next();
});

/**
 * The credits API: the caller's balance and history, the cost estimate of a graph (priced with the
 * short-video nodes bound to `services.providers`), and the admin grant. There is deliberately no
 * route that deducts credits: debits happen only through runs (the engine's billing hooks).
 * Mount with `app.route('/', creditsRoutes())`.
 * @internal
 */
export function creditsRoutes() {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/credits/balance',
      tags: ['credits'],
      summary:
        'Plan, balance, held and available credits, renewal date, and what was used today and this week',
      security,
      responses: {
        200: { description: 'The balance', ...json(BalanceResponse) },
        401: errorResponse('Not signed in'),
      },
    }),
    async (c) => {
      const { userId } = requireUser(c);
      const balance = await c.get('services').ledger.balance(userId);
      return c.json(
        {
          ...balance,
          periodStart: balance.periodStart.toISOString(),
          renewsAt: balance.renewsAt.toISOString(),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/credits/history',
      tags: ['credits'],
      summary: 'Credit movements, newest first, a page at a time',
      security,
      request: { query: HistoryQuery },
      responses: {
        200: { description: 'A page of history', ...json(HistoryResponse) },
        400: errorResponse('Bad limit or cursor'),
        401: errorResponse('Not signed in'),
      },
    }),
    async (c) => {
      const { userId } = requireUser(c);
      const { limit, cursor } = c.req.valid('query');
      const page = await c
        .get('services')
        .ledger.history(userId, { limit, ...(cursor === undefined ? {} : { before: Number(cursor) }) });
      return c.json(
        {
          entries: page.entries.map((entry) => ({
            id: entry.id,
            kind: entry.kind,
            amount: entry.amount,
            balanceDelta: entry.balanceDelta,
            heldDelta: entry.heldDelta,
            balanceAfter: entry.balanceAfter,
            heldAfter: entry.heldAfter,
            reason: entry.reason,
            runId: entry.runId,
            nodeId: entry.nodeId,
            createdAt: entry.createdAt.toISOString(),
          })),
          nextCursor: page.nextCursor === null ? null : String(page.nextCursor),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/workflow/estimate',
      tags: ['credits'],
      summary: 'What a workflow graph costs, in total and per node',
      security,
      request: { body: { required: true, ...json(EstimateBody) } },
      responses: {
        200: { description: 'The estimate', ...json(EstimateResponse) },
        400: errorResponse('The graph is invalid (GRAPH_INVALID lists every issue with node ids)'),
        401: errorResponse('Not signed in'),
      },
    }),
    async (c) => {
      const { userId } = requireUser(c);
      const services = c.get('services');
      const estimate = estimateWorkflow(c.req.valid('json'), services.providers);
      const { available } = await services.ledger.balance(userId);
      return c.json(
        {
          total: estimate.total,
          nodes: estimate.nodes.map(({ nodeId, nodeType, cost }) => ({ nodeId, nodeType, cost })),
          available,
          enough: available === null || available >= estimate.total,
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/admin/credits/grant',
      tags: ['admin'],
      summary: 'Grant credits to a user (admins only)',
      security,
      middleware: [adminOnly],
      request: { body: { required: true, ...json(GrantBody) } },
      responses: {
        200: { description: 'Granted (or replayed for a known idempotency key)', ...json(GrantResponse) },
        400: errorResponse('Invalid body'),
        401: errorResponse('Not signed in'),
        403: errorResponse('Not an admin'),
        404: errorResponse('No such user'),
        409: errorResponse('The idempotency key was used for another grant'),
      },
    }),
    async (c) => {
      const admin = requireAdmin(c);
      const services = c.get('services');
      const body = c.req.valid('json');
      const user = await services.db
        .selectFrom('users')
        .select('id')
        .$if(body.userId !== undefined, (query) => query.where('id', '=', body.userId ?? ''))
        .$if(body.email !== undefined, (query) => query.where('email', '=', body.email ?? ''))
        .executeTakeFirst();
      if (user === undefined) throw new ApiError('NOT_FOUND', 'No such user.');
      const granted = await services.ledger.grant({
        userId: user.id,
        amount: body.amount,
        reason: body.reason,
        actorUserId: admin.userId,
        ...(body.idempotencyKey === undefined ? {} : { idempotencyKey: body.idempotencyKey }),
      });
      if (!granted.replayed) await services.userEvents.publish(user.id, { type: 'credits.changed' });
      services.log.info(
        { requestId: c.get('requestId'), actorUserId: admin.userId, userId: user.id, amount: body.amount },
        granted.replayed ? 'credit grant replayed' : 'credits granted',
      );
      return c.json({ userId: user.id, ...granted }, 200);
    },
  );

  return app;
}

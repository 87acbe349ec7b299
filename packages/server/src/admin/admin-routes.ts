import { createRoute, z } from '@hono/zod-openapi';
import { createMiddleware } from 'hono/factory';
import { readAdminStats } from '../analytics/read-admin-stats.ts';
import type { AppEnv } from '../http/app-env.ts';
import { createRouter, errorResponse } from '../http/create-router.ts';
import { requireAdmin } from '../http/require-auth.ts';
import { setDailyCreditCap } from '../ledger/set-daily-credit-cap.ts';

const json = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } } }) as const;

const VaultStatus = z
  .object({
    activeKeyId: z.string(),
    activeKeyCreatedAt: z.string(),
    activeKeyAgeDays: z.number(),
    rotationDays: z.number(),
    rotationDue: z.boolean(),
    rowsByKeyId: z.record(z.string(), z.number()),
    rowsNotOnActiveKey: z.number(),
    unknownKeyIds: z.array(z.string()),
    encryptionsByKeyId: z.record(z.string(), z.number()),
  })
  .openapi('VaultStatus');

const LedgerReconciliation = z
  .object({
    accounts: z.number().int(),
    drift: z.array(z.record(z.string(), z.unknown())),
    holdDrift: z.array(z.record(z.string(), z.unknown())),
  })
  .openapi('LedgerReconciliation');

/** Route middleware runs before the validators: a non-admin gets 403 before any 400. */
const adminOnly = createMiddleware<AppEnv>(async (c, next) => {
  requireAdmin(c);
  await next();
});

const Percentiles = z.object({ p95: z.number().nullable(), p99: z.number().nullable() });

const AdminStats = z
  .object({
    windowDays: z.number().int(),
    since: z.string(),
    activeRuns: z.object({ queued: z.number().int(), running: z.number().int() }),
    runs: z.object({
      completed: z.number().int(),
      failed: z.number().int(),
      cancelled: z.number().int(),
      successRate: z.number().nullable(),
      averageCreditsPerCompletedRun: z.number().nullable(),
      durationSeconds: Percentiles,
    }),
    nodes: z.array(
      z.object({
        nodeType: z.string(),
        completed: z.number().int(),
        failed: z.number().int(),
        successRate: z.number().nullable(),
        durationSeconds: Percentiles,
      }),
    ),
    providerErrors: z.array(
      z.object({ provider: z.string(), code: z.string(), failure: z.string(), count: z.number().int() }),
    ),
  })
  .openapi('AdminStats');

const DailyCapBody = z
  .object({
    dailyCap: z.number().int().min(0).max(2_000_000_000).nullable().openapi({
      description: 'Credits per UTC day; null uses the server default (VIDGENIE_DAILY_CREDIT_CAP).',
    }),
  })
  .openapi('DailyCapBody');

const DailyCap = z
  .object({
    userId: z.string(),
    dailyCap: z.number().int().nullable(),
    defaultDailyCap: z.number().int().nullable(),
    effectiveDailyCap: z.number().int().nullable(),
  })
  .openapi('DailyCap');

/**
 * Operators' figures: the vault's key age and rotation state (the PRD's 90-day rotation), the
 * ledger's reconciliation (balances recomputed from their entries; drift should always be empty),
 * the dashboard's run figures (`/api/admin/stats`, PRD section 13), and each account's daily
 * credit cap.
 * @internal
 */
export function adminRoutes() {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/admin/vault',
      tags: ['admin'],
      summary: "The vault's active key, its age, rotation state and rows per key (admins only)",
      responses: {
        200: { description: 'Vault status', ...json(VaultStatus) },
        401: errorResponse('Not signed in'),
        403: errorResponse('Not an admin'),
      },
    }),
    async (c) => {
      requireAdmin(c);
      const stats = await c.get('services').vault.keyStats();
      return c.json(
        {
          ...stats,
          activeKeyCreatedAt: stats.activeKeyCreatedAt.toISOString(),
          unknownKeyIds: [...stats.unknownKeyIds],
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/admin/ledger/reconciliation',
      tags: ['admin'],
      summary: 'Recompute every balance from the ledger and list any drift (admins only)',
      responses: {
        200: { description: 'Reconciliation report', ...json(LedgerReconciliation) },
        401: errorResponse('Not signed in'),
        403: errorResponse('Not an admin'),
      },
    }),
    async (c) => {
      requireAdmin(c);
      const report = await c.get('services').ledger.reconcile();
      return c.json(
        {
          accounts: report.accounts,
          drift: report.drift.map((entry) => ({ ...entry })),
          holdDrift: report.holdDrift.map((entry) => ({ ...entry })),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/admin/stats',
      tags: ['admin'],
      summary:
        'Active runs, success rates per node type, average credits per run, P95/P99 durations and provider errors over a window (admins only)',
      middleware: [adminOnly],
      request: {
        query: z.object({ days: z.coerce.number().int().min(1).max(366).default(7) }),
      },
      responses: {
        200: { description: 'The figures', ...json(AdminStats) },
        400: errorResponse('Invalid window'),
        401: errorResponse('Not signed in'),
        403: errorResponse('Not an admin'),
      },
    }),
    async (c) => {
      requireAdmin(c);
      const services = c.get('services');
      const { days } = c.req.valid('query');
      const stats = await readAdminStats(services.db, { days, now: services.now() });
      return c.json(
        {
          ...stats,
          since: stats.since.toISOString(),
          nodes: [...stats.nodes],
          providerErrors: [...stats.providerErrors],
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/api/admin/users/{userId}/daily-cap',
      tags: ['admin'],
      summary: "Set a user's daily credit cap, or null for the server default (admins only)",
      middleware: [adminOnly],
      request: {
        params: z.object({ userId: z.string().min(1).max(255) }),
        body: { required: true, ...json(DailyCapBody) },
      },
      responses: {
        200: { description: 'The cap now in force', ...json(DailyCap) },
        400: errorResponse('Invalid cap'),
        401: errorResponse('Not signed in'),
        403: errorResponse('Not an admin'),
        404: errorResponse('No such user'),
      },
    }),
    async (c) => {
      const admin = requireAdmin(c);
      const services = c.get('services');
      const { userId } = c.req.valid('param');
      const { dailyCap } = c.req.valid('json');
      const updated = await setDailyCreditCap(services.db, {
        userId,
        dailyCap,
        actorUserId: admin.userId,
        ip: c.get('clientIp'),
      });
      const defaultDailyCap = services.ledger.dailyCreditCap ?? null;
      services.log.info(
        { requestId: c.get('requestId'), actorUserId: admin.userId, userId, dailyCap },
        'daily credit cap set',
      );
      return c.json(
        {
          userId,
          dailyCap: updated.dailyCap,
          defaultDailyCap,
          effectiveDailyCap: updated.dailyCap ?? defaultDailyCap,
        },
        200,
      );
    },
  );

  return app;
}

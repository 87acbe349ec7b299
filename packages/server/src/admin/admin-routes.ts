import { createRoute, z } from '@hono/zod-openapi';
import { createRouter, errorResponse } from '../http/create-router.ts';
import { requireAdmin } from '../http/require-auth.ts';

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

/**
 * Operators' figures: the vault's key age and rotation state (the PRD's 90-day rotation), and the
 * ledger's reconciliation (balances recomputed from their entries; drift should always be empty).
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

  return app;
}

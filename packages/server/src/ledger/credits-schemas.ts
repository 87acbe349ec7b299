import { z } from '@hono/zod-openapi';

/** `GET /api/credits/balance` answer. @internal */
export const BalanceResponse = z
  .object({
    plan: z.enum(['free', 'starter', 'pro', 'enterprise']),
    balance: z.number().int(),
    held: z.number().int(),
    available: z.number().int().nullable().openapi({ description: '`balance - held`; null when unlimited.' }),
    unlimited: z.boolean(),
    periodStart: z.string().openapi({ format: 'date-time' }),
    renewsAt: z.string().openapi({ format: 'date-time' }),
    usedToday: z.number().int().openapi({ description: 'Credits charged since 00:00 UTC.' }),
    usedThisWeek: z.number().int().openapi({ description: 'Credits charged since Monday 00:00 UTC.' }),
  })
  .openapi('CreditBalance');

/** `GET /api/credits/history` query. @internal */
export const HistoryQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ example: 20 }),
  cursor: z
    .string()
    .regex(/^[1-9][0-9]{0,15}$/, 'must be the nextCursor of a previous page')
    .optional()
    .openapi({ description: 'The `nextCursor` of the previous page.' }),
});

const HistoryEntrySchema = z
  .object({
    id: z.string(),
    kind: z.enum(['grant', 'renewal', 'purchase', 'reserve', 'capture', 'release', 'expire', 'adjustment']),
    amount: z.number().int().openapi({ description: 'Credits moved (never negative); see `kind`.' }),
    balanceDelta: z.number().int(),
    heldDelta: z.number().int(),
    balanceAfter: z.number().int(),
    heldAfter: z.number().int(),
    reason: z.string(),
    runId: z.string().nullable(),
    nodeId: z.string().nullable(),
    createdAt: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('CreditHistoryEntry');

/** `GET /api/credits/history` answer. @internal */
export const HistoryResponse = z
  .object({ entries: z.array(HistoryEntrySchema), nextCursor: z.string().nullable() })
  .openapi('CreditHistory');

/** `POST /api/workflow/estimate` body: a graph, checked by the engine (not here) so every issue is reported. @internal */
export const EstimateBody = z.looseObject({}).openapi('WorkflowGraphJson', {
  description: 'A workflow graph (format version 1): `{ version: 1, nodes: [...], edges: [...] }`.',
  example: {
    version: 1,
    nodes: [{ id: 'prompt', type: 'prompt', config: { text: 'a red fox' } }],
    edges: [],
  },
});

/** `POST /api/workflow/estimate` answer. @internal */
export const EstimateResponse = z
  .object({
    total: z.number().int(),
    nodes: z.array(z.object({ nodeId: z.string(), nodeType: z.string(), cost: z.number().int() })),
    available: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "The caller's available credits; null when unlimited." }),
    enough: z.boolean().openapi({ description: 'Whether the available credits cover the total now.' }),
  })
  .openapi('CostEstimate');

/** `POST /api/admin/credits/grant` body. @internal */
export const GrantBody = z
  .object({
    userId: z.string().min(1).max(64).optional(),
    email: z.string().trim().toLowerCase().max(254).optional(),
    amount: z.number().int('must be a whole number').min(1).max(1_000_000),
    reason: z.string().trim().min(1, 'is required').max(200),
    idempotencyKey: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .openapi({ description: 'Send the same key again and the grant is not repeated.' }),
  })
  .refine((body) => (body.userId === undefined) !== (body.email === undefined), {
    message: 'give either userId or email',
    path: ['userId'],
  });

/** `POST /api/admin/credits/grant` answer. @internal */
export const GrantResponse = z
  .object({
    userId: z.string(),
    entryId: z.string(),
    balance: z.number().int(),
    held: z.number().int(),
    replayed: z.boolean(),
  })
  .openapi('CreditGrant');

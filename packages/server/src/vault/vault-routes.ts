import { createRoute, z } from '@hono/zod-openapi';
import { createRouter, errorResponse } from '../http/create-router.ts';
import { requireUser } from '../http/require-auth.ts';
import { MAX_PROVIDER_KEY_LENGTH } from './provider-key-input.ts';
import type { ProviderKeyEntry } from './provider-key-vault.ts';

const ProviderIdParam = z.object({
  providerId: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be a provider key name such as openai')
    .openapi({ param: { name: 'providerId', in: 'path' }, example: 'openai' }),
});

const ProviderKeySchema = z
  .object({
    providerId: z.string().openapi({ example: 'openai' }),
    label: z.string().openapi({ example: 'OpenAI key' }),
    lastFour: z
      .string()
      .openapi({ example: 'x7Qa', description: 'The last four characters; empty for very short keys.' }),
    status: z.enum(['valid', 'invalid', 'unchecked']),
    statusReason: z.string().nullable().openapi({ example: 'OpenAI rejected this key.' }),
    checkedAt: z.string().nullable().openapi({ format: 'date-time' }),
    updatedAt: z.string().openapi({ format: 'date-time' }),
    providers: z.array(z.string()).openapi({ example: ['openai-text', 'openai-image'] }),
  })
  .openapi('ProviderKey');

const ProviderKeySlotSchema = z
  .object({
    providerId: z.string().openapi({ example: 'openai' }),
    label: z.string().openapi({ example: 'OpenAI key' }),
    providers: z.array(
      z.object({ id: z.string(), displayName: z.string(), kind: z.enum(['text', 'image', 'video']) }),
    ),
    testable: z.boolean(),
  })
  .openapi('ProviderKeySlot');

const SaveKeyBody = z
  .object({
    key: z
      .string()
      .max(MAX_PROVIDER_KEY_LENGTH * 4, 'is too long')
      .openapi({
        description: `The key; trimmed, at most ${MAX_PROVIDER_KEY_LENGTH} characters. Never returned.`,
      }),
  })
  .openapi('SaveProviderKey');

const json = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } } }) as const;

function entryJson(entry: ProviderKeyEntry) {
  return {
    providerId: entry.providerId,
    label: entry.label,
    lastFour: entry.lastFour,
    status: entry.status,
    statusReason: entry.statusReason,
    checkedAt: entry.checkedAt?.toISOString() ?? null,
    updatedAt: entry.updatedAt.toISOString(),
    providers: [...entry.providers],
  };
}

/**
 * The BYOK key routes under `/api/user/api-keys`: list (with the empty slots), save or replace,
 * delete and test. Responses carry the last four characters and the status, never the key.
 * @internal
 */
export function vaultRoutes() {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/user/api-keys',
      tags: ['provider keys'],
      summary: 'Your provider keys (masked) and the keys this server can use',
      responses: {
        200: {
          description: 'Saved keys, and every slot (saved or not) with the providers that use it.',
          ...json(z.object({ keys: z.array(ProviderKeySchema), slots: z.array(ProviderKeySlotSchema) })),
        },
        401: errorResponse('Not signed in'),
      },
    }),
    async (c) => {
      const { userId } = requireUser(c);
      const { vault } = c.get('services');
      const keys = await vault.list(userId);
      const slots = vault.slots().map((slot) => ({
        providerId: slot.providerId,
        label: slot.label,
        providers: slot.providers.map((p) => ({ id: p.id, displayName: p.displayName, kind: p.kind })),
        testable: slot.testable,
      }));
      return c.json({ keys: keys.map(entryJson), slots }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/api/user/api-keys/{providerId}',
      tags: ['provider keys'],
      summary: 'Save or replace a provider key (a replaced key is unchecked until tested)',
      request: { params: ProviderIdParam, body: { required: true, ...json(SaveKeyBody) } },
      responses: {
        200: { description: 'Saved; the masked entry.', ...json(ProviderKeySchema) },
        400: errorResponse('Unknown provider key name, or an empty or malformed key'),
        401: errorResponse('Not signed in'),
      },
    }),
    async (c) => {
      const auth = requireUser(c);
      const { providerId } = c.req.valid('param');
      const { key } = c.req.valid('json');
      const entry = await c.get('services').vault.save({
        userId: auth.userId,
        providerId,
        key,
        actorUserId: auth.userId,
        ip: c.get('clientIp'),
      });
      return c.json(entryJson(entry), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/user/api-keys/{providerId}',
      tags: ['provider keys'],
      summary: 'Delete a provider key',
      request: { params: ProviderIdParam },
      responses: {
        204: { description: 'Deleted' },
        401: errorResponse('Not signed in'),
        404: errorResponse('No key saved for this provider'),
      },
    }),
    async (c) => {
      const auth = requireUser(c);
      const { providerId } = c.req.valid('param');
      await c.get('services').vault.remove({
        userId: auth.userId,
        providerId,
        actorUserId: auth.userId,
        ip: c.get('clientIp'),
      });
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/user/api-keys/{providerId}/test',
      tags: ['provider keys'],
      summary: "Check a key with the provider's cheapest authenticated call",
      description:
        'Answers 200 with the stored outcome: `valid`, `invalid` (the provider refused the key) or `unchecked` (the provider could not be asked: unreachable, rate limited, too slow, or no check available), each with a reason. A provider outage is not an error of this request.',
      request: { params: ProviderIdParam },
      responses: {
        200: {
          description: 'The key with its new status, reason and check time.',
          ...json(ProviderKeySchema),
        },
        400: errorResponse('Unknown provider key name'),
        401: errorResponse('Not signed in'),
        404: errorResponse('No key saved for this provider'),
        409: errorResponse('The key was replaced or removed during the test'),
        429: errorResponse('Too many key tests: retry after Retry-After seconds'),
        503: errorResponse('The stored key cannot be decrypted on this server'),
      },
    }),
    async (c) => {
      const auth = requireUser(c);
      const { providerId } = c.req.valid('param');
      // Each test is a call to the provider: bounded per user (ASVS 2.4.1).
      await c.get('services').limits.consume('keyTestPerUser', auth.userId);
      const entry = await c.get('services').vault.test({
        userId: auth.userId,
        providerId,
        actorUserId: auth.userId,
        ip: c.get('clientIp'),
        signal: c.req.raw.signal,
      });
      return c.json(entryJson(entry), 200);
    },
  );

  return app;
}

import { randomBytes } from 'node:crypto';
import { OpenAPIHono } from '@hono/zod-openapi';
import { defineProvider, type KeyValidation, type TextProvider } from '@vidgenie/nodes';
import { createMiddleware } from 'hono/factory';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { DB } from '../../src/db/schema.ts';
import type { AppEnv, AppServices } from '../../src/http/app-env.ts';
import { handleError } from '../../src/http/handle-error.ts';
import { createRateLimits } from '../../src/http/rate-limits.ts';
import { createKeyRing, generateVaultKey, type KeyRing, keyRingEntries } from '../../src/vault/key-ring.ts';
import type { ProviderKeyVault } from '../../src/vault/provider-key-vault.ts';
import { vaultRoutes } from '../../src/vault/vault-routes.ts';
import { captureLog } from './capture-log.ts';

/** Inserts a user of its own (tests never assume an empty database) and returns its id. */
export async function createUser(db: Kysely<DB>): Promise<string> {
  const id = `usr_${randomBytes(9).toString('base64url')}`;
  await db
    .insertInto('users')
    .values({ id, email: `${id.toLowerCase()}@example.com`, password_hash: 'x' })
    .execute();
  return id;
}

/** A ring of fresh random keys with these ids (the last active). */
export function ringOf(...ids: string[]): KeyRing {
  return createKeyRing(ids.map((id) => ({ id, key: generateVaultKey() })));
}

/** The same ring plus a new active key. */
export function withNewKey(ring: KeyRing, id: string): KeyRing {
  return createKeyRing([...keyRingEntries(ring), { id, key: generateVaultKey() }]);
}

/** A ring without some of its keys (a retired key). */
export function withoutKeys(ring: KeyRing, ...ids: string[]): KeyRing {
  return createKeyRing(keyRingEntries(ring).filter((entry) => !ids.includes(entry.id)));
}

/** A hosted text provider needing a key, with the key check the test wants. */
export function keyedProvider(args: {
  readonly id: string;
  readonly secret: string;
  readonly label: string;
  readonly displayName?: string;
  readonly validateKey?: (key: string, options: { readonly signal: AbortSignal }) => Promise<KeyValidation>;
}): TextProvider {
  return defineProvider({
    id: args.id,
    displayName: args.displayName ?? args.id,
    kind: 'text',
    local: false,
    key: { secret: args.secret, label: args.label },
    config: z.object({}),
    price: () => 1,
    ...(args.validateKey === undefined ? {} : { validateKey: args.validateKey }),
    generate: async () => ({ text: '', tokensUsed: 0, model: 'none' }),
  });
}

/** A random canary key: any trace of it outside the ciphertext is a leak. */
export function canaryKey(prefix = 'sk-canary-'): string {
  return `${prefix}${randomBytes(18).toString('hex')}`;
}

/** The vault's routes on a bare app (auth from the `x-test-user` header), with log lines captured. */
export interface VaultTestApp {
  readonly app: OpenAPIHono<AppEnv>;
  readonly logLines: string[];
  /** A request as `userId` (or anonymous when undefined). */
  request(userId: string | undefined, method: string, path: string, body?: unknown): Promise<Response>;
}

/**
 * Mounts `vaultRoutes()` behind the same error handler as the real app. Only the services the
 * vault routes read are provided (the full `AppServices` needs the whole server).
 */
export function createVaultTestApp(args: {
  readonly db: Kysely<DB>;
  readonly vault: ProviderKeyVault;
}): VaultTestApp {
  const { log, lines: logLines } = captureLog();
  const services = {
    db: args.db,
    vault: args.vault,
    log,
    limits: createRateLimits({ scale: 1000 }),
    now: () => new Date(),
  } satisfies Partial<AppServices>;
  const app = new OpenAPIHono<AppEnv>();
  app.use(
    createMiddleware<AppEnv>(async (c, next) => {
      c.set('services', services as unknown as AppServices);
      const userId = c.req.header('x-test-user');
      c.set('auth', userId === undefined ? undefined : { userId, role: 'user', via: 'token' });
      c.set('clientIp', '203.0.113.7');
      c.set('requestId', 'req-test');
      await next();
    }),
  );
  app.route('/', vaultRoutes());
  app.onError(handleError);
  return {
    app,
    logLines,
    request: async (userId, method, path, body) =>
      app.request(path, {
        method,
        headers: {
          ...(userId === undefined ? {} : { 'x-test-user': userId }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
  };
}

import { randomBytes } from 'node:crypto';
import type { ProviderRegistry } from '@vidgenie/nodes';
import { loadConfig } from '../../src/config/server-config.ts';
import type { Database } from '../../src/db/open-database.ts';
import { createApp } from '../../src/http/create-app.ts';
import { createServices, type Services } from '../../src/services/create-services.ts';
import { captureLog } from './capture-log.ts';

/** The origin test requests come from (the server's own, as a browser would send). */
export const TEST_ORIGIN = 'http://localhost';

/** A signed-up user and a request function that carries their session cookie like a browser. */
export interface TestUser {
  readonly id: string;
  readonly email: string;
  readonly password: string;
  readonly cookie: string;
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
}

/** An app on a test database, with every log line captured for leak scans. */
export interface TestApp {
  readonly app: ReturnType<typeof createApp>;
  readonly services: Services;
  /** Every JSON log line written so far. */
  readonly logLines: string[];
  /** A request without credentials (from the app's own origin unless `headers` says otherwise). */
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  /** Signs up a new user with a random email. */
  signUp(): Promise<TestUser>;
}

/**
 * Builds the real app (real services, real middleware) on a test database. Rate limits are raised
 * unless `rateLimitScale` says otherwise; the vault key lives in a fresh temporary data dir.
 */
export async function createTestApp(
  database: Database,
  options: {
    env?: Record<string, string>;
    providers?: ProviderRegistry;
    now?: () => Date;
    rateLimitScale?: number;
  } = {},
): Promise<TestApp> {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const config = loadConfig({
    VIDGENIE_DATA_DIR: mkdtempSync(join(tmpdir(), 'vidgenie-test-')),
    NODE_ENV: 'test',
    LOG_LEVEL: 'debug',
    ...options.env,
  });
  const { log, lines: logLines } = captureLog();
  const services = await createServices(config, {
    database,
    log,
    rateLimitScale: options.rateLimitScale ?? 1000,
    background: false,
    ...(options.providers === undefined ? {} : { providers: options.providers }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  const app = createApp(services);
  const send = async (method: string, path: string, body: unknown, headers: Record<string, string>) =>
    app.request(path, {
      method,
      headers: {
        origin: TEST_ORIGIN,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });

  return {
    app,
    services,
    logLines,
    request: (method, path, body, headers = {}) => send(method, path, body, headers),
    async signUp() {
      const email = `user-${randomBytes(6).toString('hex')}@example.com`;
      const password = `pw-${randomBytes(12).toString('hex')}`;
      const response = await send('POST', '/api/auth/signup', { email, password }, {});
      if (response.status !== 201)
        throw new Error(`sign-up failed: ${response.status} ${await response.text()}`);
      const cookie = sessionCookieOf(response);
      const { user } = (await response.json()) as { user: { id: string } };
      return {
        id: user.id,
        email,
        password,
        cookie,
        request: (method, path, body, headers = {}) => send(method, path, body, { cookie, ...headers }),
      };
    },
  };
}

/** `name=value` of the session cookie a response set. */
export function sessionCookieOf(response: Response): string {
  const header = response.headers.get('set-cookie') ?? '';
  const match = /((?:__Host-)?vidgenie_session=[^;]+)/.exec(header);
  if (match?.[1] === undefined) throw new Error(`no session cookie in: ${header}`);
  return match[1];
}

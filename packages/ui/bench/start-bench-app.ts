import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, createServices, loadConfig, type RunningServer, startServer } from '@vidgenie/server';
import { type Browser, type BrowserContext, type Cookie, chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, DESKTOP_VIEWPORT } from '../test/support/browser-app.ts';

/** The real server on the built app, headless Chromium, and a signed-up user's session cookies. */
export interface BenchApp {
  readonly server: RunningServer;
  readonly browser: Browser;
  /** The session cookies of the signed-up user, to put in every new context. */
  readonly session: readonly Cookie[];
  /** A new context (empty cache, English, the tests' viewport) signed in as the user. */
  newContext(): Promise<BrowserContext>;
  /** Closes the browser and the server and removes the temporary data folder. */
  close(): Promise<void>;
}

/**
 * Starts the real server (PGlite in a temporary folder, local providers, `VIDGENIE_UI_DIR` on
 * `uiDir`, a built app) on a free port and Debian's Chromium, and signs one user up through
 * `POST /api/auth/signup`. Everything it started is stopped by `close()`, also when it throws.
 */
export async function startBenchApp(uiDir: string): Promise<BenchApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vidgenie-ui-bench-'));
  const cleanups: (() => Promise<void> | void)[] = [() => rmSync(dataDir, { recursive: true, force: true })];
  const close = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  try {
    const config = loadConfig({ VIDGENIE_DATA_DIR: dataDir, VIDGENIE_UI_DIR: uiDir, NODE_ENV: 'test' });
    const services = await createServices(config, { log: createLogger({ level: 'silent' }) });
    cleanups.push(() => services.close());
    const server = await startServer(services, { port: 0, host: '127.0.0.1' });
    cleanups.push(async () => {
      await server.close();
      server.closeConnections();
    });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_ARGS],
    });
    cleanups.push(() => browser.close());

    const signup = await browser.newContext();
    let session: Cookie[];
    try {
      const response = await signup.request.post(`${server.url}/api/auth/signup`, {
        headers: { origin: new URL(server.url).origin },
        data: { email: 'bench@example.com', password: 'a-long-enough-password' },
      });
      if (response.status() !== 201) {
        throw new Error(`sign-up answered ${response.status()}: ${await response.text()}`);
      }
      session = await signup.cookies(server.url);
    } finally {
      await signup.close();
    }
    if (session.length === 0) throw new Error('sign-up set no session cookie');

    return {
      server,
      browser,
      session,
      async newContext() {
        const context = await browser.newContext({ locale: 'en-US', viewport: DESKTOP_VIEWPORT });
        await context.addCookies([...session]);
        return context;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

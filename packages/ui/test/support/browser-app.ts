import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, createServices, loadConfig, type RunningServer, startServer } from '@vidgenie/server';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's Chromium (apt), never a downloaded browser; `VIDGENIE_CHROMIUM` points elsewhere. */
export const CHROMIUM = process.env.VIDGENIE_CHROMIUM ?? '/usr/bin/chromium';
export const uiDir = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const distDir = join(uiDir, 'dist');
/** Screenshots for people (CI keeps this folder as an artefact). */
export const shotsDir = process.env.VIDGENIE_SCREENSHOTS_DIR ?? join(uiDir, 'test-results');

/** Whether Chromium is here; without it the browser suites declare one failing test instead (never a skip). */
export const hasChromium = (): boolean => existsSync(CHROMIUM);

/** The error the "needs Chromium" test throws when `VIDGENIE_REQUIRE_BROWSER=1` and it is missing. */
export const missingChromium = (): Error =>
  new Error(
    `VIDGENIE_REQUIRE_BROWSER=1 but ${CHROMIUM} is missing: apt-get install -y chromium (Debian's package), or set VIDGENIE_CHROMIUM.`,
  );

/** The real server (PGlite, local providers) serving the built app, and a headless Chromium page on it. */
export interface BrowserApp {
  readonly server: RunningServer;
  readonly services: Awaited<ReturnType<typeof createServices>>;
  readonly context: BrowserContext;
  readonly page: Page;
  /** Uncaught page errors and console errors, for tests to assert none happened. */
  readonly pageErrors: string[];
  readonly consoleErrors: string[];
  close(): Promise<void>;
}

/** Builds the app if needed, starts the server on a free port and opens Chromium with a fresh profile. */
export async function startBrowserApp(options: { readonly locale?: string } = {}): Promise<BrowserApp> {
  if (!existsSync(join(distDir, 'index.html'))) {
    const { build } = await import('vite');
    await build({ root: uiDir, logLevel: 'warn' });
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'vidgenie-ui-'));
  const profile = mkdtempSync(join(tmpdir(), 'vidgenie-profile-'));
  const config = loadConfig({ VIDGENIE_DATA_DIR: dataDir, VIDGENIE_UI_DIR: distDir, NODE_ENV: 'test' });
  const services = await createServices(config, { log: createLogger({ level: 'silent' }) });
  const server = await startServer(services, { port: 0, host: '127.0.0.1' });
  // The flags keep Chromium off this machine's closed network (STACK.md's recipe).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1440, height: 900 },
    ...(options.locale === undefined ? {} : { locale: options.locale }),
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  return {
    server,
    services,
    context,
    page,
    pageErrors,
    consoleErrors,
    async close() {
      await context.close();
      await server.close();
      server.closeConnections();
      await services.close();
      for (const dir of [dataDir, profile]) rmSync(dir, { recursive: true, force: true });
    },
  };
}

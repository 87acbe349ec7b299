import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, createServices, loadConfig, type RunningServer, startServer } from '@vidgenie/server';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's Chromium (apt), never a downloaded browser; `VIDGENIE_CHROMIUM` points elsewhere. */
export const CHROMIUM = process.env.VIDGENIE_CHROMIUM ?? '/usr/bin/chromium';
export const uiDir = join(dirname(fileURLToPath(import.meta.url)), '../..');
/** The built app the server serves: `dist`, or `VIDGENIE_UI_DIST` (a build kept apart, e.g. to try a UI change). */
export const distDir = process.env.VIDGENIE_UI_DIST ?? join(uiDir, 'dist');
/** Screenshots for people (CI keeps this folder as an artefact). */
export const shotsDir = process.env.VIDGENIE_SCREENSHOTS_DIR ?? join(uiDir, 'test-results');

/** Chromium's flags for the tests and the bench: they keep it off this machine's closed network (STACK.md's recipe). */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The desktop viewport of the browser tests and the bench (a laptop screen). */
export const DESKTOP_VIEWPORT = { width: 1440, height: 900 } as const;

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
  /**
   * Opens another Chromium with its own fresh profile (no cookies shared with `page`): a second
   * person on the same server. {@link BrowserApp.close} closes it too.
   */
  openProfile(): Promise<BrowserProfile>;
  close(): Promise<void>;
}

/** A Chromium with its own profile, on the app's server. */
export interface BrowserProfile {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly pageErrors: string[];
  readonly consoleErrors: string[];
  close(): Promise<void>;
}

/** Options of {@link startBrowserApp}. */
export interface BrowserAppOptions {
  /** The browser's locale (e.g. `en-US`); Chromium's default otherwise. */
  readonly locale?: string;
  /**
   * Extra server settings, as environment variables for `loadConfig` (e.g. `OPENAI_BASE_URL`
   * pointing at a provider fake). The data and UI directories and `NODE_ENV` stay the harness's.
   */
  readonly env?: Readonly<Record<string, string>>;
}

/** Builds the app if needed, starts the server on a free port and opens Chromium with a fresh profile. */
export async function startBrowserApp(options: BrowserAppOptions = {}): Promise<BrowserApp> {
  if (!existsSync(join(distDir, 'index.html'))) {
    const { build } = await import('vite');
    await build({ root: uiDir, logLevel: 'warn', build: { outDir: distDir, emptyOutDir: true } });
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'vidgenie-ui-'));
  const config = loadConfig({
    ...options.env,
    VIDGENIE_DATA_DIR: dataDir,
    VIDGENIE_UI_DIR: distDir,
    NODE_ENV: 'test',
  });
  const services = await createServices(config, { log: createLogger({ level: 'silent' }) });
  const server = await startServer(services, { port: 0, host: '127.0.0.1' });
  const profiles: BrowserProfile[] = [];
  const openProfile = async () => {
    const profile = await launchProfile(options.locale);
    profiles.push(profile);
    return profile;
  };
  const first = await openProfile();
  return {
    server,
    services,
    context: first.context,
    page: first.page,
    pageErrors: first.pageErrors,
    consoleErrors: first.consoleErrors,
    openProfile,
    async close() {
      for (const profile of profiles) await profile.close();
      await server.close();
      server.closeConnections();
      await services.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Launches Chromium on a fresh profile directory, recording page and console errors. */
async function launchProfile(locale: string | undefined): Promise<BrowserProfile> {
  const profile = mkdtempSync(join(tmpdir(), 'vidgenie-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: DESKTOP_VIEWPORT,
    ...(locale === undefined ? {} : { locale }),
    args: [...CHROMIUM_ARGS],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  let closed = false;
  return {
    context,
    page,
    pageErrors,
    consoleErrors,
    async close() {
      if (closed) return;
      closed = true;
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, createServices, loadConfig, type RunningServer, startServer } from '@vidgenie/server';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shortVideoGraph } from '../src/graph/short-video-graph.ts';

const CHROMIUM = process.env.VIDGENIE_CHROMIUM ?? '/usr/bin/chromium';
const uiDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const distDir = join(uiDir, 'dist');
/** Screenshots for people (CI keeps this folder as an artefact). */
const shotsDir = process.env.VIDGENIE_SCREENSHOTS_DIR ?? join(uiDir, 'test-results');

if (!existsSync(CHROMIUM)) {
  // Collected only with VIDGENIE_REQUIRE_BROWSER=1 (see vitest.config.ts): fail, never skip.
  describe('the creator app in Chromium', () => {
    it('needs Chromium', () => {
      throw new Error(
        `VIDGENIE_REQUIRE_BROWSER=1 but ${CHROMIUM} is missing: apt-get install -y chromium (Debian's package), or set VIDGENIE_CHROMIUM.`,
      );
    });
  });
} else {
  describe('the creator app in Chromium, served by the real server (PGlite, local providers)', () => {
    let server: RunningServer;
    let services: Awaited<ReturnType<typeof createServices>>;
    let context: BrowserContext;
    let page: Page;
    const dirs: string[] = [];
    const pageErrors: string[] = [];
    const consoleErrors: string[] = [];
    /** The run the first test makes (its content is checked in /dashboard and /library). */
    let firstRunId = '';

    beforeAll(async () => {
      if (!existsSync(join(distDir, 'index.html'))) {
        const { build } = await import('vite');
        await build({ root: uiDir, logLevel: 'warn' });
      }
      const dataDir = mkdtempSync(join(tmpdir(), 'vidgenie-ui-'));
      const profile = mkdtempSync(join(tmpdir(), 'vidgenie-profile-'));
      dirs.push(dataDir, profile);
      const config = loadConfig({ VIDGENIE_DATA_DIR: dataDir, VIDGENIE_UI_DIR: distDir, NODE_ENV: 'test' });
      services = await createServices(config, { log: createLogger({ level: 'silent' }) });
      server = await startServer(services, { port: 0, host: '127.0.0.1' });
      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        viewport: { width: 1440, height: 900 },
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
      page = context.pages()[0] ?? (await context.newPage());
      page.on('pageerror', (error) => pageErrors.push(error.message));
      page.on('console', (message) => {
        if (message.type() === 'error') consoleErrors.push(message.text());
      });
    });

    afterAll(async () => {
      await context?.close();
      await server?.close();
      server?.closeConnections();
      await services?.close();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    });

    it('serves the app for paths outside /api, under the CSP, and keeps /api answers JSON', async () => {
      const spa = await fetch(`${server.url}/create`);
      expect(spa.status).toBe(200);
      expect(spa.headers.get('content-type')).toContain('text/html');
      expect(spa.headers.get('content-security-policy')).toContain("default-src 'self'");
      const html = await spa.text();
      expect(html).toContain('<div id="root">');
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
      expect((await fetch(`${server.url}${asset}`)).headers.get('content-type')).toContain('javascript');
      // /api stays the API's: denied by default before routing, in the one JSON error shape.
      const api = await fetch(`${server.url}/api/nothing-here`);
      expect(api.status).toBe(401);
      expect(api.headers.get('content-type')).toContain('application/json');
      expect(((await api.json()) as { error: { code: string } }).error.code).toBeTypeOf('string');
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    });

    it('signs up (showing the API error first), runs the template live and plays the video; the prompt stays text', async () => {
      await page.goto(`${server.url}/create`);
      await page.getByRole('heading', { name: 'Log in' }).waitFor();
      await page.getByRole('link', { name: 'Create an account' }).click();
      await page.getByLabel('Email').fill('creator@example.com');
      await page.getByLabel('Password').fill('short');
      await page.getByRole('button', { name: 'Sign up' }).click();
      await expect
        .poll(() => page.getByRole('alert').textContent())
        .toContain('must be at least 10 characters');
      await page.getByLabel('Password').fill('a-long-enough-password');
      await page.getByRole('button', { name: 'Sign up' }).click();
      await page.getByTestId('node-output').waitFor();
      expect(new URL(page.url()).pathname).toBe('/create');

      // Record every state each node goes through.
      await page.evaluate(() => {
        const seen: string[] = [];
        Object.assign(window, { __states: seen });
        new MutationObserver((records) => {
          for (const record of records)
            if (record.target instanceof HTMLElement && record.target.dataset.state)
              seen.push(`${record.target.dataset.testid}:${record.target.dataset.state}`);
        }).observe(document.body, { attributes: true, attributeFilter: ['data-state'], subtree: true });
      });

      const xss = '<img src=x onerror="window.__xss=1"> a red fox in the snow at dawn';
      await page.getByRole('textbox', { name: 'Prompt' }).fill(xss);
      const run = page.getByRole('button', { name: /^Run · \d+ credits$/ });
      await run.waitFor();
      await expect
        .poll(() => page.getByTestId('estimate').textContent())
        .toMatch(/Estimated cost: \d+ credits/);
      expect(await page.getByTestId('available').textContent()).toBe('Available: 100 credits');
      await run.click();
      await page.getByRole('button', { name: 'Cancel' }).waitFor();

      await page.locator('[data-testid="node-output"][data-state="success"]').waitFor({ timeout: 90_000 });
      const video = page.locator('[data-testid="node-output"] video[src]');
      await video.waitFor({ timeout: 30_000 });
      const src = await video.getAttribute('src');
      expect(src).toMatch(/^\/api\/contents\/[^/]+\/media\/video$/);
      const media = await page.evaluate(async (url) => {
        const response = await fetch(url);
        return {
          status: response.status,
          type: response.headers.get('content-type'),
          size: (await response.arrayBuffer()).byteLength,
        };
      }, src ?? '');
      expect(media).toMatchObject({ status: 200, type: 'video/mp4' });
      expect(media.size).toBeGreaterThan(1000);

      const states = await page.evaluate(() => (window as unknown as { __states: string[] }).__states);
      expect(states).toContain('node-video:running');
      for (const id of ['prompt', 'enhance', 'image', 'video', 'output'])
        expect(await page.getByTestId(`node-${id}`).getAttribute('data-state')).toBe('success');
      expect(await page.getByTestId('run-phase').getAttribute('data-phase')).toBe('completed');

      // The prompt rendered as text: no element made of it, nothing executed.
      expect(await page.getByTestId('node-prompt').textContent()).toContain('<img src=x onerror=');
      expect(await page.locator('.react-flow img[src="x"]').count()).toBe(0);
      expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
      expect(pageErrors).toEqual([]);
      expect(consoleErrors.filter((text) => /Content Security Policy|Refused to/i.test(text))).toEqual([]);

      await expect.poll(() => page.getByTestId('available').textContent()).not.toBe('Available: 100 credits');

      // Coming back (a reload of /create?run=…) shows the run where it is: replayed from its events.
      expect(new URL(page.url()).searchParams.get('run')).toMatch(/^run_/);
      firstRunId = new URL(page.url()).searchParams.get('run') ?? '';
      await page.reload();
      await page.locator('[data-testid="node-output"][data-state="success"] video[src]').waitFor();
      expect(await page.getByTestId('run-phase').getAttribute('data-phase')).toBe('completed');
      mkdirSync(shotsDir, { recursive: true });
      await page.screenshot({ path: join(shotsDir, 'create-finished.png') });
    });

    it('says what to do when a hosted provider has no key, and spends nothing', async () => {
      // The reload above started from a fresh graph: an empty prompt cannot be estimated.
      expect(await page.getByRole('alert').first().textContent()).toMatch(/prompt/i);
      await page.getByRole('textbox', { name: 'Prompt' }).fill('a lighthouse in a storm');
      await page.getByTestId('node-enhance').click();
      const provider = page.getByLabel('Provider');
      expect(await provider.locator('option').allTextContents()).toContain(
        'Local text (local, no key needed)',
      );
      await provider.selectOption('openai-text');
      await page.getByRole('button', { name: /^Run · \d+ credits$/ }).click();
      await expect
        .poll(() => page.getByRole('alert').allTextContents())
        .toContainEqual(expect.stringContaining('Add your OpenAI key in Settings'));
      const balance = await page.evaluate(async () => (await fetch('/api/credits/balance')).json());
      expect(balance).toMatchObject({ held: 0 });
      await provider.selectOption('local-text');
    });

    it('cancels a run from the Run bar: the run ends cancelled and nothing stays held', async () => {
      await page.getByTestId('node-video').click();
      await page.getByLabel('Duration').selectOption('60');
      const run = page.getByRole('button', { name: /^Run · \d+ credits$/ });
      await expect.poll(() => run.textContent()).not.toBe('Run · 14 credits');
      await run.click();
      await page.getByRole('button', { name: 'Cancel' }).click();
      await page.locator('[data-testid="run-phase"][data-phase="cancelled"]').waitFor({ timeout: 60_000 });
      expect(await page.getByTestId('node-output').getAttribute('data-state')).not.toBe('success');
      await page.getByRole('button', { name: /^Run · \d+ credits$/ }).waitFor();
      const balance = await page.evaluate(async () => (await fetch('/api/credits/balance')).json());
      expect(balance).toMatchObject({ held: 0 });
    });

    it('shows on /dashboard the balance the API gives, the runs and videos, refreshed by the events stream', async () => {
      const readBalance = () =>
        page.evaluate(
          async () =>
            (await (await fetch('/api/credits/balance')).json()) as {
              available: number;
              usedToday: number;
              usedThisWeek: number;
            },
        );
      await page.getByRole('navigation').getByRole('link', { name: 'Dashboard' }).click();
      await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
      const balance = await readBalance();
      await expect
        .poll(() => page.getByTestId('credits-available').textContent())
        .toBe(String(balance.available));
      expect(await page.getByTestId('used-today').textContent()).toBe(`Used today: ${balance.usedToday}`);
      expect(await page.getByTestId('used-week').textContent()).toBe(
        `Used this week: ${balance.usedThisWeek}`,
      );
      const recent = page.locator(`[data-testid="recent-run"][data-run-id="${firstRunId}"]`);
      await recent.waitFor();
      expect(await recent.textContent()).toContain('completed');
      expect(await recent.getByRole('link', { name: 'Open' }).getAttribute('href')).toBe(
        `/create?run=${firstRunId}`,
      );
      await page.locator('[data-testid="latest-content"] img').first().waitFor();

      await page.getByRole('button', { name: 'History' }).click();
      await expect.poll(() => page.getByTestId('credit-history').textContent()).toContain('Charged');
      await page.getByRole('button', { name: 'Get more credits' }).click();
      await page.getByText('Buying credits is not available yet').waitFor();
      mkdirSync(shotsDir, { recursive: true });
      await page.screenshot({ path: join(shotsDir, 'dashboard.png'), fullPage: true });

      // A run started elsewhere (here: the API) shows up finished, and the balance follows, without a reload.
      const started = await page.evaluate(
        async (graph) => {
          const response = await fetch('/api/workflow/execute', {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'idempotency-key': `dash-${Date.now()}` },
            body: JSON.stringify({ graph }),
          });
          return (await response.json()) as { runId: string };
        },
        shortVideoGraph({ prompt: 'a paper boat on a river' }),
      );
      const next = page.locator(`[data-testid="recent-run"][data-run-id="${started.runId}"]`);
      await expect.poll(() => next.textContent(), { timeout: 60_000 }).toContain('completed');
      const after = await readBalance();
      expect(after.available).toBeLessThan(balance.available);
      await expect
        .poll(() => page.getByTestId('credits-available').textContent())
        .toBe(String(after.available));
    });

    it('lists the video in /library with its thumbnail, plays, downloads and deletes it; templates load and delete', async () => {
      const contents = await page.evaluate(
        async () =>
          (await (await fetch('/api/contents?limit=50')).json()) as {
            contents: { id: string; runId: string }[];
          },
      );
      const contentId = contents.contents.find((content) => content.runId === firstRunId)?.id ?? '';
      expect(contentId).not.toBe('');
      // Save the graph on the canvas as a template, from the panel.
      await page.getByRole('navigation').getByRole('link', { name: 'Create' }).click();
      await page.getByLabel('Template name').fill('Fox at dawn');
      await page.getByRole('button', { name: 'Save as template' }).click();
      await page.getByText('Saved as “Fox at dawn”.').waitFor();

      await page.getByRole('navigation').getByRole('link', { name: 'Library' }).click();
      const item = page.locator(`[data-testid="library-item"][data-content-id="${contentId}"]`);
      await item.waitFor();
      // The XSS prompt is shown as text here too.
      expect(await item.textContent()).toContain('<img src=x onerror=');
      const thumb = item.locator('img');
      await expect
        .poll(() => thumb.evaluate((image: HTMLImageElement) => image.complete && image.naturalWidth > 0))
        .toBe(true);
      await item.getByRole('button', { name: 'Play' }).click();
      expect(await item.locator('video').getAttribute('src')).toBe(`/api/contents/${contentId}/media/video`);
      const href = (await item.getByRole('link', { name: 'Download' }).getAttribute('href')) ?? '';
      expect(href).toBe(`/api/contents/${contentId}/media/video?download=1`);
      const download = await page.evaluate(async (url) => {
        const response = await fetch(url);
        return {
          status: response.status,
          type: response.headers.get('content-type'),
          disposition: response.headers.get('content-disposition'),
          size: (await response.arrayBuffer()).byteLength,
        };
      }, href);
      expect(download).toMatchObject({ status: 200, type: 'video/mp4' });
      expect(download.disposition).toContain('attachment');
      expect(download.size).toBeGreaterThan(1000);
      await page.screenshot({ path: join(shotsDir, 'library.png'), fullPage: true });

      page.once('dialog', (dialog) => void dialog.accept());
      await item.getByRole('button', { name: 'Delete' }).click();
      await item.waitFor({ state: 'detached' });
      const gone = await page.evaluate(async (id) => (await fetch(`/api/contents/${id}`)).status, contentId);
      expect(gone).toBe(404);

      const template = page.getByTestId('template').filter({ hasText: 'Fox at dawn' });
      page.once('dialog', (dialog) => void dialog.accept());
      await template.getByRole('button', { name: 'Delete' }).click();
      await template.waitFor({ state: 'detached' });
      const builtIn = page.getByTestId('template').first();
      await builtIn.getByRole('button', { name: 'Load in Create' }).click();
      await page.getByTestId('node-output').waitFor();
      expect(new URL(page.url()).pathname).toBe('/create');
      expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    });

    it('speaks French when asked, and remembers it', async () => {
      await page.getByLabel('Language').selectOption('fr');
      const nav = page.getByRole('navigation');
      await nav.getByRole('link', { name: 'Bibliothèque' }).waitFor();
      expect(await nav.getByRole('link').allTextContents()).toEqual([
        'Créer',
        'Tableau de bord',
        'Bibliothèque',
        'Paramètres',
      ]);
      expect(await page.getAttribute('html', 'lang')).toBe('fr');
      await page.reload();
      await nav.getByRole('link', { name: 'Créer' }).click();
      await page.getByRole('button', { name: /^Lancer/ }).waitFor();
      await page.getByTestId('node-output').getByText('Sortie').waitFor();
      await page.getByLabel('Langue').selectOption('en');
      await page.getByRole('navigation').getByRole('link', { name: 'Settings' }).waitFor();
    });

    it('saves, shows masked and deletes a provider key in Settings', async () => {
      await page.getByRole('navigation').getByRole('link', { name: 'Settings' }).click();
      await page.getByRole('heading', { name: 'Your API keys' }).waitFor();
      const row = page.locator('.key-row').first();
      const input = row.locator('input');
      await input.fill('sk-test-key-abcd1234');
      expect(await input.getAttribute('type')).toBe('password');
      await row.getByRole('button', { name: 'Show key' }).click();
      expect(await input.getAttribute('type')).toBe('text');
      await row.getByRole('button', { name: 'Save' }).click();
      await row.getByText('Saved key ••••1234').waitFor();
      await page.screenshot({ path: join(shotsDir, 'settings.png') });
      expect(await input.inputValue()).toBe('');
      expect(await page.content()).not.toContain('sk-test-key-abcd1234');
      await row.getByRole('button', { name: 'Delete' }).click();
      await row.getByText('Deleted.').waitFor();
      expect(await row.getByText('Saved key').count()).toBe(0);
    });

    it('fits a phone screen: the canvas above, the panel below, the Run bar on screen', async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.getByRole('navigation').getByRole('link', { name: 'Create' }).click();
      await page.getByTestId('node-output').waitFor();
      const bar = await page.getByRole('region', { name: 'Run' }).boundingBox();
      const canvas = await page.getByRole('region', { name: 'Workflow canvas' }).boundingBox();
      const panel = await page.getByRole('complementary').boundingBox();
      expect(bar && canvas && panel).toBeTruthy();
      if (bar && canvas && panel) {
        expect(bar.y + bar.height).toBeLessThanOrEqual(canvas.y + 1);
        expect(panel.y).toBeGreaterThanOrEqual(canvas.y + canvas.height - 1);
        expect(panel.width).toBeLessThanOrEqual(390);
      }
      await page.screenshot({ path: join(shotsDir, 'create-phone.png') });
      await page.getByRole('navigation').getByRole('link', { name: 'Dashboard' }).click();
      await page.getByTestId('credits-card').waitFor();
      await page.screenshot({ path: join(shotsDir, 'dashboard-phone.png'), fullPage: true });
    });
  });
}

import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, createServices, loadConfig, type RunningServer, startServer } from '@vidgenie/server';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

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

    it('saves, shows masked and deletes a provider key in Settings', async () => {
      await page.getByRole('link', { name: 'Settings' }).click();
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
      await page.getByRole('link', { name: 'Create' }).click();
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
    });
  });
}

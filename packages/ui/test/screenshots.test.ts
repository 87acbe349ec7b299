import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { OPENAI_FAKE_KEY, type OpenAiFake, startOpenAiFake } from '@vidgenie/nodes/testing';
import type { RunningServer } from '@vidgenie/server';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserApp,
  hasChromium,
  missingChromium,
  shotsDir,
  startBrowserApp,
} from './support/browser-app.ts';
import { pngFileInfo, signUp } from './support/page-helpers.ts';

/** The two widths every page is shot at. */
const VIEWPORTS = {
  desktop: { width: 1440, height: 900 },
  phone: { width: 390, height: 844 },
} as const;
type Width = keyof typeof VIEWPORTS;

/**
 * How long the OpenAI fake takes to enhance a prompt: the run stays on its second step that long,
 * which leaves time to shoot /create mid-run at both widths.
 */
const ENHANCE_LATENCY_MS = 15_000;

if (!hasChromium()) {
  // Collected only with VIDGENIE_REQUIRE_BROWSER=1 (see vitest.config.ts): fail, never skip.
  describe('screenshots of the app in Chromium', () => {
    it('needs Chromium', () => {
      throw missingChromium();
    });
  });
} else {
  describe('screenshots of /create (mid-run and finished), /settings and /dashboard at desktop and phone widths', () => {
    let openai: OpenAiFake;
    let app: BrowserApp;
    let server: RunningServer;
    let page: Page;
    const shot = async (name: string, width: Width, options: { readonly fullPage?: boolean } = {}) => {
      await page.setViewportSize(VIEWPORTS[width]);
      const path = join(shotsDir, `${name}-${width}.png`);
      await page.screenshot({ path, fullPage: options.fullPage ?? false });
      return path;
    };
    /** Each file is a real PNG of the width asked for, with something on it (more than 10 kB). */
    const expectShot = (path: string, width: Width) => {
      const info = pngFileInfo(path);
      expect(info.isPng).toBe(true);
      expect(info.bytes).toBeGreaterThan(10_000);
      expect(info.width).toBe(VIEWPORTS[width].width);
      expect(info.height).toBeGreaterThanOrEqual(VIEWPORTS[width].height);
    };

    beforeAll(async () => {
      mkdirSync(shotsDir, { recursive: true });
      openai = await startOpenAiFake({ latencyMs: { 'chat.completions': ENHANCE_LATENCY_MS } });
      app = await startBrowserApp({ locale: 'en-US', env: { OPENAI_BASE_URL: openai.baseURL } });
      ({ server, page } = app);
    });

    afterAll(async () => {
      await app?.close();
      await openai?.close();
    });

    it('shoots /settings with a tested key', async () => {
      await signUp(page, server.url, 'shots@example.com');
      await page.getByRole('navigation').getByRole('link', { name: 'Settings' }).click();
      const row = page.locator('.key-row[data-provider="openai"]');
      await row.locator('input').fill(OPENAI_FAKE_KEY);
      await row.getByRole('button', { name: 'Save' }).click();
      await row.getByText(`Saved key ••••${OPENAI_FAKE_KEY.slice(-4)}`).waitFor();
      await row.getByRole('button', { name: 'Test' }).click();
      await row.getByRole('status').getByText('OpenAI accepted this key.').waitFor();
      for (const width of ['desktop', 'phone'] as const)
        expectShot(await shot('settings', width, { fullPage: true }), width);
    });

    it('shoots /create mid-run (a step running) and finished (every step green)', async () => {
      await page.setViewportSize(VIEWPORTS.desktop);
      await page.getByRole('navigation').getByRole('link', { name: 'Create' }).click();
      await page.getByRole('textbox', { name: 'Prompt' }).fill('a lantern festival on a quiet river');
      await page.getByTestId('node-enhance').click();
      await page.getByLabel('Provider').selectOption('openai-text');
      const run = page.getByRole('button', { name: /^Run · \d+ credits$/ });
      await expect.poll(() => run.isEnabled()).toBe(true);
      await run.click();

      const running = page.locator('[data-testid="node-enhance"][data-state="running"]');
      await running.waitFor({ timeout: 30_000 });
      for (const width of ['desktop', 'phone'] as const) {
        // Shoot only while the run is still going (the fake holds the enhance step for a while).
        await running.waitFor({ timeout: 1_000 });
        expect(await page.getByTestId('run-phase').getAttribute('data-phase')).toBe('running');
        expectShot(await shot('create-running', width), width);
      }

      await page.locator('[data-testid="run-phase"][data-phase="completed"]').waitFor({ timeout: 90_000 });
      await page.locator('[data-testid="node-output"] video[src]').waitFor();
      for (const id of ['prompt', 'enhance', 'image', 'video', 'output'])
        expect(await page.getByTestId(`node-${id}`).getAttribute('data-state')).toBe('success');
      for (const width of ['phone', 'desktop'] as const)
        expectShot(await shot('create-finished', width), width);
    });

    it('shoots /dashboard with the finished run', async () => {
      await page.setViewportSize(VIEWPORTS.desktop);
      await page.getByRole('navigation').getByRole('link', { name: 'Dashboard' }).click();
      await page.locator('[data-testid="recent-run"]').first().waitFor();
      await page.locator('[data-testid="latest-content"] img').first().waitFor();
      await expect
        .poll(() =>
          page
            .locator('[data-testid="latest-content"] img')
            .first()
            .evaluate((image: HTMLImageElement) => image.complete && image.naturalWidth > 0),
        )
        .toBe(true);
      for (const width of ['desktop', 'phone'] as const)
        expectShot(await shot('dashboard', width, { fullPage: true }), width);
      expect(app.pageErrors).toEqual([]);
    });
  });
}

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningServer } from '@vidgenie/server';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatRate } from '../src/admin/format.ts';
import type { AdminStats } from '../src/api/api-types.ts';
import { shortVideoGraph } from '../src/graph/short-video-graph.ts';
import {
  type BrowserApp,
  hasChromium,
  missingChromium,
  shotsDir,
  startBrowserApp,
} from './support/browser-app.ts';

if (!hasChromium()) {
  // Collected only with VIDGENIE_REQUIRE_BROWSER=1 (see vitest.config.ts): fail, never skip.
  describe('the admin view in Chromium', () => {
    it('needs Chromium', () => {
      throw missingChromium();
    });
  });
} else {
  describe('the admin view in Chromium, served by the real server (PGlite, local providers)', () => {
    let app: BrowserApp;
    let server: RunningServer;
    let page: Page;
    let pageErrors: string[] = [];
    let consoleErrors: string[] = [];

    /** `GET /api/admin/stats?days=` with the page's session. */
    const readStats = (days: number) =>
      page.evaluate(async (window) => {
        const response = await fetch(`/api/admin/stats?days=${window}`);
        return { status: response.status, body: (await response.json()) as unknown };
      }, days);

    const signUp = async (email: string) => {
      await page.goto(`${server.url}/signup`);
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill('a-long-enough-password');
      await page.getByRole('button', { name: 'Sign up' }).click();
      await page.getByRole('navigation').getByRole('link', { name: 'Create' }).waitFor();
    };

    beforeAll(async () => {
      app = await startBrowserApp({ locale: 'en-US' });
      ({ server, page, pageErrors, consoleErrors } = app);
    });

    afterAll(async () => {
      await app?.close();
    });

    it('shows the first account (the admin) the PRD figures of GET /api/admin/stats after a run', async () => {
      await signUp('admin@example.com');
      const me = await page.evaluate(
        async () => ((await (await fetch('/api/auth/me')).json()) as { user: { role: string } }).user.role,
      );
      expect(me).toBe('admin');

      // Run the template once (local providers) and wait until it has finished.
      const started = await page.evaluate(
        async (graph) => {
          const response = await fetch('/api/workflow/execute', {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'idempotency-key': `admin-${Date.now()}` },
            body: JSON.stringify({ graph }),
          });
          return { status: response.status, body: (await response.json()) as { runId: string } };
        },
        shortVideoGraph({ prompt: 'a lighthouse in a storm' }),
      );
      expect(started.status).toBe(202);
      const runStatus = () =>
        page.evaluate(
          async (runId) =>
            ((await (await fetch(`/api/workflow/status/${runId}`)).json()) as { status: string }).status,
          started.body.runId,
        );
      await expect
        .poll(runStatus, { timeout: 90_000, interval: 500 })
        .toMatch(/^(completed|failed|cancelled)$/);
      expect(await runStatus()).toBe('completed');
      // The figures come from analytics events: wait until the run is counted.
      await expect
        .poll(async () => ((await readStats(7)).body as AdminStats).runs.completed, { timeout: 30_000 })
        .toBe(1);

      // The Admin link sits in the header, next to the account (outside the pages' navigation).
      const admin = page.getByRole('banner').getByRole('link', { name: 'Admin' });
      await admin.click();
      expect(new URL(page.url()).pathname).toBe('/admin');
      await page.locator('[data-testid="admin-stats"][data-window="7"]').waitFor();

      const { status, body } = await readStats(7);
      expect(status).toBe(200);
      const stats = body as AdminStats;
      expect(stats.windowDays).toBe(7);
      expect(stats.runs.successRate).toBe(1);
      expect(stats.nodes.length).toBeGreaterThan(0);

      const active = stats.activeRuns.queued + stats.activeRuns.running;
      expect(await page.getByTestId('admin-active-runs').getAttribute('data-value')).toBe(String(active));
      expect(await page.getByTestId('admin-active-runs-value').textContent()).toBe(String(active));
      expect(await page.getByTestId('admin-success-rate').getAttribute('data-value')).toBe(
        String(stats.runs.successRate),
      );
      expect(await page.getByTestId('admin-success-rate-value').textContent()).toBe(
        formatRate('en', stats.runs.successRate),
      );
      expect(await page.getByTestId('admin-success-rate-value').textContent()).toBe('100%');
      // One bar per node type, each with the API's success rate.
      const bars = page.getByTestId('admin-node-bar');
      expect(await bars.count()).toBe(stats.nodes.length);
      for (const node of stats.nodes) {
        const bar = page.locator(`[data-testid="admin-node-bar"][data-node-type="${node.nodeType}"]`);
        expect(await bar.getAttribute('data-value')).toBe(String(node.successRate ?? ''));
        expect(await bar.locator('.admin-bars__rate').textContent()).toBe(formatRate('en', node.successRate));
      }
      // Durations: the whole run plus a row per node type.
      expect(await page.locator('[data-testid="admin-durations"] tbody tr').count()).toBe(
        stats.nodes.length + 1,
      );
      // The vault and ledger cards; the ledger has no drift.
      await page.getByTestId('admin-vault').waitFor();
      expect(await page.getByTestId('admin-ledger-drift').textContent()).toBe('No drift');

      // The window selector asks the API for another window.
      await page.getByRole('button', { name: 'Last 30 days' }).click();
      await page.locator('[data-testid="admin-stats"][data-window="30"]').waitFor();
      expect(await page.getByRole('button', { name: 'Last 30 days' }).getAttribute('aria-pressed')).toBe(
        'true',
      );
      const month = (await readStats(30)).body as AdminStats;
      expect(month.windowDays).toBe(30);
      expect(await page.getByTestId('admin-success-rate-value').textContent()).toBe(
        formatRate('en', month.runs.successRate),
      );
      await page.getByRole('button', { name: 'Last 24 hours' }).click();
      await page.locator('[data-testid="admin-stats"][data-window="1"]').waitFor();

      mkdirSync(shotsDir, { recursive: true });
      await page.screenshot({ path: join(shotsDir, 'admin.png'), fullPage: true });

      // In French too.
      await page.getByLabel('Language').selectOption('fr');
      await page.getByRole('heading', { name: 'Administration' }).waitFor();
      await page.getByRole('heading', { name: 'Taux de réussite par étape' }).waitFor();
      await page.getByLabel('Langue').selectOption('en');
      await page.getByRole('heading', { name: 'Success rate per step' }).waitFor();

      expect(pageErrors).toEqual([]);
      expect(consoleErrors.filter((text) => /Content Security Policy|Refused to/i.test(text))).toEqual([]);
    });

    it('hides the Admin link from a second account and shows it "admins only" at /admin', async () => {
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.getByRole('heading', { name: 'Log in' }).waitFor();
      await signUp('creator@example.com');
      const header = page.getByRole('banner');
      await header.getByRole('link', { name: 'Library' }).waitFor();
      expect(await header.getByRole('link', { name: 'Admin' }).count()).toBe(0);
      expect((await readStats(7)).status).toBe(403);

      await page.goto(`${server.url}/admin`);
      await page.getByTestId('admin-only').waitFor();
      expect(await page.getByTestId('admin-only').textContent()).toBe(
        'Admins only: this page is for the administrators of this installation.',
      );
      expect(await page.getByTestId('admin-stats').count()).toBe(0);
      expect(await header.getByRole('link', { name: 'Admin' }).count()).toBe(0);
      await page.screenshot({ path: join(shotsDir, 'admin-forbidden.png') });
      expect(pageErrors).toEqual([]);
    });
  });
}

import type { RunningServer } from '@vidgenie/server';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserApp,
  type BrowserProfile,
  hasChromium,
  missingChromium,
  startBrowserApp,
} from './support/browser-app.ts';
import { pageRequest, signUp } from './support/page-helpers.ts';

/** Words only A's run contains, to look for on B's pages. */
const A_PROMPT = 'a violet zeppelin above quiet harbour lights';
/** A's OpenAI key (never sent to a provider here: saved only). */
const A_KEY = 'sk-alice-private-key-7777';

if (!hasChromium()) {
  // Collected only with VIDGENIE_REQUIRE_BROWSER=1 (see vitest.config.ts): fail, never skip.
  describe('two accounts in Chromium', () => {
    it('needs Chromium', () => {
      throw missingChromium();
    });
  });
} else {
  describe('two accounts in two Chromium profiles: B never sees A’s runs, videos or keys', () => {
    let app: BrowserApp;
    let server: RunningServer;
    /** A's page (the app's first profile) and B's (a second, fresh profile). */
    let alice: Page;
    let bobProfile: BrowserProfile;
    let bob: Page;
    let runId = '';
    let contentId = '';

    beforeAll(async () => {
      app = await startBrowserApp({ locale: 'en-US' });
      ({ server, page: alice } = app);
      bobProfile = await app.openProfile();
      bob = bobProfile.page;
    });

    afterAll(async () => {
      await app?.close();
    });

    it('A signs up, saves a key and runs the template to a video', async () => {
      await signUp(alice, server.url, 'alice@example.com');
      await alice.getByRole('navigation').getByRole('link', { name: 'Settings' }).click();
      const row = alice.locator('.key-row[data-provider="openai"]');
      await row.locator('input').fill(A_KEY);
      await row.getByRole('button', { name: 'Save' }).click();
      await row.getByText('Saved key ••••7777').waitFor();

      await alice.getByRole('navigation').getByRole('link', { name: 'Create' }).click();
      await alice.getByRole('textbox', { name: 'Prompt' }).fill(A_PROMPT);
      const run = alice.getByRole('button', { name: /^Run · \d+ credits$/ });
      await expect.poll(() => run.isEnabled()).toBe(true);
      await run.click();
      await alice.locator('[data-testid="run-phase"][data-phase="completed"]').waitFor({ timeout: 90_000 });
      runId = new URL(alice.url()).searchParams.get('run') ?? '';
      expect(runId).toMatch(/^run_/);
      const src = (await alice.locator('[data-testid="node-output"] video[src]').getAttribute('src')) ?? '';
      contentId = /^\/api\/contents\/([^/]+)\/media\/video$/.exec(src)?.[1] ?? '';
      expect(contentId).not.toBe('');
      // A can read all of it (so B's refusals below are about B, not about wrong addresses).
      expect((await pageRequest(alice, `/api/workflow/status/${runId}`)).status).toBe(200);
      expect((await pageRequest(alice, `/api/contents/${contentId}`)).status).toBe(200);
      for (const kind of ['video', 'image', 'thumbnail'])
        expect((await pageRequest(alice, `/api/contents/${contentId}/media/${kind}`)).status).toBe(200);
      expect((await pageRequest(alice, `/api/workflow/runs/${runId}/events`)).status).toBe(200);
    });

    it('B, in a fresh profile, sees none of it on /dashboard, /library and /settings', async () => {
      // A fresh profile carries no session: B starts signed out.
      await bob.bringToFront();
      await bob.goto(`${server.url}/dashboard`);
      await expect.poll(() => new URL(bob.url()).pathname).toBe('/login');
      await bob.getByRole('heading', { name: 'Log in' }).waitFor();
      await signUp(bob, server.url, 'bob@example.com');

      await bob.getByRole('navigation').getByRole('link', { name: 'Dashboard' }).click();
      await bob.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
      await expect.poll(() => bob.getByTestId('credits-available').textContent()).toMatch(/^\d+$/);
      expect(await bob.locator('[data-testid="recent-run"]').count()).toBe(0);
      expect(await bob.locator(`[data-run-id="${runId}"]`).count()).toBe(0);
      expect(await bob.locator('[data-testid="latest-content"] img').count()).toBe(0);
      expect(await bob.content()).not.toContain(A_PROMPT);

      await bob.getByRole('navigation').getByRole('link', { name: 'Library' }).click();
      await bob.getByTestId('template').first().waitFor();
      expect(await bob.locator('[data-testid="library-item"]').count()).toBe(0);
      expect(await bob.locator(`[data-content-id="${contentId}"]`).count()).toBe(0);
      expect(await bob.content()).not.toContain(A_PROMPT);

      await bob.getByRole('navigation').getByRole('link', { name: 'Settings' }).click();
      await bob.locator('.key-row[data-provider="openai"]').waitFor();
      expect(await bob.getByText(/Saved key/).count()).toBe(0);
      expect(await bob.content()).not.toContain('7777');
      expect(bobProfile.pageErrors).toEqual([]);
    });

    it('B gets 404 for A’s run status, events, media and content, and cannot act on them', async () => {
      const reads = [
        `/api/workflow/status/${runId}`,
        `/api/workflow/runs/${runId}/events`,
        `/api/contents/${contentId}`,
        `/api/contents/${contentId}/media/video`,
        `/api/contents/${contentId}/media/video?download=1`,
        `/api/contents/${contentId}/media/image`,
        `/api/contents/${contentId}/media/thumbnail`,
      ];
      for (const url of reads) {
        const answer = await pageRequest(bob, url);
        expect({ url, status: answer.status }).toEqual({ url, status: 404 });
        expect(answer.type).toContain('application/json');
        expect(JSON.stringify(answer.json)).not.toContain(A_PROMPT);
      }
      const writes = [
        { url: `/api/workflow/runs/${runId}/cancel`, method: 'POST', body: {} },
        { url: `/api/workflow/runs/${runId}/rerun`, method: 'POST', body: { fromNodeId: 'video' } },
        { url: `/api/contents/${contentId}`, method: 'DELETE' },
      ];
      for (const { url, ...init } of writes) {
        const answer = await pageRequest(bob, url, init);
        expect({ url, status: answer.status }).toEqual({ url, status: 404 });
      }

      // B's own lists hold nothing of A's; B's key list is empty.
      const runs = (await pageRequest(bob, '/api/workflow/runs?limit=50')).json;
      expect(JSON.stringify(runs)).not.toContain(runId);
      const contents = (await pageRequest(bob, '/api/contents?limit=50')).json as { contents: unknown[] };
      expect(contents.contents).toEqual([]);
      const keys = (await pageRequest(bob, '/api/user/api-keys')).json as { keys: unknown[] };
      expect(keys.keys).toEqual([]);

      // A still has everything (B's delete did nothing).
      expect((await pageRequest(alice, `/api/contents/${contentId}`)).status).toBe(200);
      expect((await pageRequest(alice, `/api/workflow/status/${runId}`)).json).toMatchObject({
        status: 'completed',
      });
      const aliceKeys = (await pageRequest(alice, '/api/user/api-keys')).json as {
        keys: { providerId: string; lastFour: string }[];
      };
      expect(aliceKeys.keys).toEqual([expect.objectContaining({ providerId: 'openai', lastFour: '7777' })]);
    });
  });
}

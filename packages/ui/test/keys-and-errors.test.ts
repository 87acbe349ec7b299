import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFfmpegMediaTools } from '@vidgenie/nodes';
import { OPENAI_FAKE_KEY, type OpenAiFake, startOpenAiFake } from '@vidgenie/nodes/testing';
import type { RunningServer } from '@vidgenie/server';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserApp, hasChromium, missingChromium, startBrowserApp } from './support/browser-app.ts';
import { mp4BoxTypes, pageRequest, signUp } from './support/page-helpers.ts';

/** A key the OpenAI fake refuses with OpenAI's 401 `invalid_api_key`. */
const WRONG_KEY = 'sk-wrong-openai-key-0000-9999';

interface LedgerEntry {
  readonly kind: string;
  readonly amount: number;
  readonly runId: string | null;
  readonly nodeId: string | null;
  readonly balanceAfter: number;
  readonly heldAfter: number;
}

if (!hasChromium()) {
  // Collected only with VIDGENIE_REQUIRE_BROWSER=1 (see vitest.config.ts): fail, never skip.
  describe('provider keys and provider errors in Chromium', () => {
    it('needs Chromium', () => {
      throw missingChromium();
    });
  });
} else {
  describe('provider keys and provider errors in Chromium, against the OpenAI fake', () => {
    let openai: OpenAiFake;
    let app: BrowserApp;
    let server: RunningServer;
    let page: Page;
    /** The run that fails on the image step, then the rerun from it. */
    let failedRunId = '';
    let rerunId = '';
    const downloads = mkdtempSync(join(tmpdir(), 'vidgenie-downloads-'));

    const openAiRow = (): Locator => page.locator('.key-row[data-provider="openai"]');
    const ledger = async (): Promise<LedgerEntry[]> =>
      ((await pageRequest(page, '/api/credits/history?limit=100')).json as { entries: LedgerEntry[] })
        .entries;
    const availableShown = async (): Promise<number> => {
      const text = (await page.getByTestId('available').textContent()) ?? '';
      const match = /Available: (\d+) credits/.exec(text);
      if (match === null) throw new Error(`The Run bar shows no balance: "${text}"`);
      return Number(match[1]);
    };
    const saveKey = async (key: string) => {
      await page.getByRole('navigation').getByRole('link', { name: 'Settings' }).click();
      await page.getByRole('heading', { name: 'Your API keys' }).waitFor();
      await openAiRow().locator('input').fill(key);
      await openAiRow().getByRole('button', { name: 'Save' }).click();
      await openAiRow()
        .getByText(`Saved key ••••${key.slice(-4)}`)
        .waitFor();
    };

    beforeAll(async () => {
      openai = await startOpenAiFake();
      app = await startBrowserApp({ locale: 'en-US', env: { OPENAI_BASE_URL: openai.baseURL } });
      ({ server, page } = app);
    });

    afterAll(async () => {
      await app?.close();
      await openai?.close();
      rmSync(downloads, { recursive: true, force: true });
    });

    it('tests a saved OpenAI key with the provider: a refused one is "rejected" in plain words, a good one "valid"', async () => {
      await signUp(page, server.url, 'keys@example.com');
      await saveKey(WRONG_KEY);
      await openAiRow().getByRole('button', { name: 'Test' }).click();
      const rejected = openAiRow().getByRole('alert');
      await expect.poll(() => rejected.textContent()).toBe('OpenAI rejected this key.');
      expect(await rejected.getAttribute('class')).toContain('alert--error');
      await openAiRow()
        .getByText('Saved key ••••9999 · Rejected: the provider refused this key. Paste a new one.')
        .waitFor();
      // The check really went to the (fake) provider, with the saved key; the page never shows it.
      expect(openai.log).toContainEqual(
        expect.objectContaining({ route: 'models.list', authorization: `Bearer ${WRONG_KEY}` }),
      );
      expect(await page.content()).not.toContain(WRONG_KEY);

      await saveKey(OPENAI_FAKE_KEY);
      await openAiRow().getByRole('button', { name: 'Test' }).click();
      const message = openAiRow().getByRole('status');
      await expect.poll(() => message.textContent()).toBe('OpenAI accepted this key.');
      expect(await message.getAttribute('class')).toContain('alert--ok');
      await openAiRow()
        .getByText(`Saved key ••••${OPENAI_FAKE_KEY.slice(-4)} · Valid: the provider accepted this key.`)
        .waitFor();
      const keys = (await pageRequest(page, '/api/user/api-keys')).json as {
        keys: { providerId: string; status: string }[];
      };
      expect(keys.keys).toContainEqual(expect.objectContaining({ providerId: 'openai', status: 'valid' }));
      expect(app.pageErrors).toEqual([]);
    });

    it('shows the failing step red with what to do; after the key is fixed, "Rerun from here" completes and charges only the rerun steps', async () => {
      // A key the provider will refuse when the run calls it (saved, not tested: the run may start).
      await saveKey(WRONG_KEY);
      await page.getByRole('navigation').getByRole('link', { name: 'Create' }).click();
      await page.getByRole('textbox', { name: 'Prompt' }).fill('a kite over the dunes');
      await page.getByTestId('node-image').click();
      await page.getByLabel('Provider').selectOption('openai-image');
      const run = page.getByRole('button', { name: /^Run · \d+ credits$/ });
      await expect.poll(() => run.isEnabled()).toBe(true);
      await run.click();
      await page.locator('[data-testid="run-phase"][data-phase="failed"]').waitFor({ timeout: 60_000 });
      failedRunId = new URL(page.url()).searchParams.get('run') ?? '';
      expect(failedRunId).toMatch(/^run_/);

      const image = page.getByTestId('node-image');
      expect(await image.getAttribute('data-state')).toBe('failed');
      expect(await image.getAttribute('aria-label')).toMatch(/^Image: /);
      // The step says what went wrong and what to do, in words.
      expect(await image.getByRole('alert').textContent()).toContain(
        'Your OpenAI key was rejected: check it in Settings.',
      );
      await image
        .getByText('Fix the cause (a key in Settings, or this step’s settings), then rerun from here.')
        .waitFor();
      // Red: the failed style, not the success one.
      expect(await image.getAttribute('class')).toContain('step-node--failed');
      expect(await page.getByTestId('node-enhance').getAttribute('data-state')).toBe('success');
      for (const id of ['video', 'output'])
        expect(await page.getByTestId(`node-${id}`).getAttribute('data-state')).not.toBe('success');
      expect(openai.log).toContainEqual(
        expect.objectContaining({ route: 'images.generate', authorization: `Bearer ${WRONG_KEY}` }),
      );

      // The failed run charged what ran (prompt, enhance), and nothing stays held.
      const failedStatus = (await pageRequest(page, `/api/workflow/status/${failedRunId}`)).json as {
        status: string;
        cost: { captured: number };
      };
      expect(failedStatus.status).toBe('failed');
      const afterFailure = await ledger();
      const failedCaptures = afterFailure.filter(
        (entry) => entry.kind === 'capture' && entry.runId === failedRunId,
      );
      expect(failedCaptures.map((entry) => entry.nodeId)).not.toContain('image');
      expect(failedCaptures.reduce((sum, entry) => sum + entry.amount, 0)).toBe(failedStatus.cost.captured);
      expect(((await pageRequest(page, '/api/credits/balance')).json as { held: number }).held).toBe(0);

      // Fix the cause: the right key, tested.
      await saveKey(OPENAI_FAKE_KEY);
      await openAiRow().getByRole('button', { name: 'Test' }).click();
      await expect
        .poll(() => openAiRow().getByRole('status').textContent())
        .toBe('OpenAI accepted this key.');

      // The credits shown before the rerun (the dashboard's gauge, as the API gives them).
      await page.getByRole('navigation').getByRole('link', { name: 'Dashboard' }).click();
      const shownBefore = page.getByTestId('credits-available');
      await expect.poll(() => shownBefore.textContent()).toMatch(/^\d+$/);
      const before = Number(await shownBefore.textContent());
      expect(
        ((await pageRequest(page, '/api/credits/balance')).json as { available: number }).available,
      ).toBe(before);

      await page.goto(`${server.url}/create?run=${failedRunId}`);
      await page.locator('[data-testid="run-phase"][data-phase="failed"]').waitFor();
      await image.getByRole('button', { name: 'Rerun from here' }).click();
      await expect.poll(() => new URL(page.url()).searchParams.get('run')).not.toBe(failedRunId);
      rerunId = new URL(page.url()).searchParams.get('run') ?? '';
      expect(rerunId).toMatch(/^run_/);
      await page.locator('[data-testid="run-phase"][data-phase="completed"]').waitFor({ timeout: 90_000 });
      for (const id of ['image', 'video', 'output'])
        expect(await page.getByTestId(`node-${id}`).getAttribute('data-state')).toBe('success');
      await page.locator('[data-testid="node-output"] video[src]').waitFor();

      const rerun = (await pageRequest(page, `/api/workflow/status/${rerunId}`)).json as {
        status: string;
        rerunFrom: string;
        cost: { captured: number };
        nodes: { nodeId: string; cost: number }[];
      };
      expect(rerun).toMatchObject({ status: 'completed', rerunFrom: 'image' });
      const captures = (await ledger()).filter(
        (entry) => entry.kind === 'capture' && entry.runId === rerunId,
      );
      const charged = new Set(captures.map((entry) => entry.nodeId));
      // Only the rerun steps are charged: the image and what follows it, not the prompt or the enhance step.
      expect(charged.has('image')).toBe(true);
      expect([...charged].every((nodeId) => ['image', 'video', 'output'].includes(nodeId ?? ''))).toBe(true);
      const spent = captures.reduce((sum, entry) => sum + entry.amount, 0);
      expect(spent).toBe(rerun.cost.captured);
      expect(spent).toBeGreaterThan(0);
      expect(await page.getByTestId('run-phase').textContent()).toContain(String(spent));

      // The balance shown before and after matches the ledger: before − the rerun's captures.
      const balance = (await pageRequest(page, '/api/credits/balance')).json as {
        available: number;
        held: number;
      };
      expect(balance).toMatchObject({ held: 0, available: before - spent });
      // And the Run bar says so once the canvas has something to estimate.
      await page.getByTestId('node-prompt').locator('.step-node__header').click();
      await page.getByRole('textbox', { name: 'Prompt' }).fill('a kite over the dunes');
      await expect.poll(availableShown).toBe(before - spent);
      const newest = (await ledger())[0];
      expect(newest && newest.balanceAfter - newest.heldAfter).toBe(before - spent);
      await page.getByRole('navigation').getByRole('link', { name: 'Dashboard' }).click();
      await expect
        .poll(() => page.getByTestId('credits-available').textContent())
        .toBe(String(before - spent));
      expect(app.pageErrors).toEqual([]);
    });

    it('downloads the MP4 from /library through its Download link: a real video of the requested length', async () => {
      const contents = (await pageRequest(page, '/api/contents?limit=50')).json as {
        contents: { id: string; runId: string }[];
      };
      const contentId = contents.contents.find((content) => content.runId === rerunId)?.id ?? '';
      expect(contentId).not.toBe('');
      await page.getByRole('navigation').getByRole('link', { name: 'Library' }).click();
      const item = page.locator(`[data-testid="library-item"][data-content-id="${contentId}"]`);
      await item.waitFor();
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        item.getByRole('link', { name: 'Download' }).click(),
      ]);
      expect(download.suggestedFilename()).toMatch(/\.mp4$/);
      const file = join(downloads, download.suggestedFilename());
      await download.saveAs(file);
      const bytes = readFileSync(file);
      expect(bytes.length).toBeGreaterThan(10_000);
      const boxes = mp4BoxTypes(bytes);
      expect(boxes[0]).toBe('ftyp');
      expect(boxes).toContain('moov');
      expect(boxes).toContain('mdat');
      // ffmpeg (the nodes package's own) reads it as a video of the template's 8 seconds.
      const probe = await createFfmpegMediaTools().probeVideo({ path: file });
      expect(probe.width).toBeGreaterThan(0);
      expect(probe.height).toBeGreaterThan(0);
      expect(probe.durationSeconds).toBeGreaterThan(7);
      expect(probe.durationSeconds).toBeLessThan(9);
    });
  });
}

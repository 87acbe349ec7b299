import { type RunwayFake, startRunwayFake } from '@vidgenie/nodes/testing';
import type { RunningServer } from '@vidgenie/server';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserApp, hasChromium, missingChromium, startBrowserApp } from './support/browser-app.ts';
import { pageRequest, signUp } from './support/page-helpers.ts';

/** The key the Runway fake accepts (saved in the vault like a creator's own). */
const RUNWAY_KEY = 'key_live_image_test_0000';

/**
 * How long the Runway fake takes to render a clip: the run stays on its video step that long, which
 * leaves time to see the image node's picture while the run is still running.
 */
const VIDEO_JOB_MS = 15_000;

interface NodeStatus {
  readonly nodeId: string;
  readonly status: string;
  readonly cost: number;
  readonly output: unknown;
}
interface RunStatus {
  readonly status: string;
  readonly parentRunId: string | null;
  readonly rerunFrom: string | null;
  readonly cost: { readonly reserved: number; readonly captured: number };
  readonly nodes: readonly NodeStatus[];
}
interface HistoryEntry {
  readonly kind: string;
  readonly amount: number;
  readonly runId: string | null;
  readonly nodeId: string | null;
}

if (!hasChromium()) {
  // Collected only with VIDGENIE_REQUIRE_BROWSER=1 (see vitest.config.ts): fail, never skip.
  describe('the live image and a rerun in Chromium', () => {
    it('needs Chromium', () => {
      throw missingChromium();
    });
  });
} else {
  describe('the image node shows its picture mid-run; a rerun from the video node reuses the rest', () => {
    let runway: RunwayFake;
    let app: BrowserApp;
    let server: RunningServer;
    let page: Page;
    /** The first run (the rerun's parent). */
    let firstRunId = '';

    const runId = () => new URL(page.url()).searchParams.get('run') ?? '';
    const statusOf = async (id: string): Promise<RunStatus> => {
      const answer = await pageRequest(page, `/api/workflow/status/${id}`);
      expect(answer.status).toBe(200);
      return answer.json as RunStatus;
    };
    const nodeOf = (run: RunStatus, nodeId: string) => run.nodes.find((node) => node.nodeId === nodeId);
    const clipOf = (run: RunStatus) =>
      (nodeOf(run, 'video')?.output as { video?: { key: string } } | undefined)?.video?.key;

    beforeAll(async () => {
      runway = await startRunwayFake({ apiKey: RUNWAY_KEY, jobMs: VIDEO_JOB_MS });
      app = await startBrowserApp({
        locale: 'en-US',
        env: { RUNWAY_BASE_URL: runway.url, VIDGENIE_VIDEO_POLL_MS: '300' },
      });
      ({ server, page } = app);
    });

    afterAll(async () => {
      await app?.close();
      await runway?.close();
    });

    it("shows and loads the image node's picture while the video step is still rendering", async () => {
      await signUp(page, server.url, 'live-image@example.com');
      const saved = await pageRequest(page, '/api/user/api-keys/runway', {
        method: 'PUT',
        body: { key: RUNWAY_KEY },
      });
      expect(saved.status).toBe(200);
      await page.getByRole('navigation').getByRole('link', { name: 'Create' }).click();
      await page.getByRole('textbox', { name: 'Prompt' }).fill('a paper boat on a rainy street');
      await page.getByTestId('node-video').click();
      await page.getByLabel('Provider').selectOption('runway-video');
      const run = page.getByRole('button', { name: /^Run · \d+ credits$/ });
      await expect.poll(() => run.isEnabled()).toBe(true);
      await run.click();

      const picture = page.locator('[data-testid="node-image"] img.step-node__thumb');
      await picture.waitFor({ timeout: 60_000 });
      await expect
        .poll(() => picture.evaluate((image: HTMLImageElement) => image.complete && image.naturalWidth > 0))
        .toBe(true);
      // Loaded while the run still runs: the video node has not finished.
      expect(await page.getByTestId('run-phase').getAttribute('data-phase')).toBe('running');
      expect(await page.getByTestId('node-video').getAttribute('data-state')).toBe('running');
      firstRunId = runId();
      expect(firstRunId).toMatch(/^run_/);
      expect(await picture.getAttribute('src')).toBe(
        `/api/workflow/runs/${firstRunId}/nodes/image/media/image`,
      );
      expect(await picture.evaluate((image: HTMLImageElement) => image.naturalWidth)).toBeGreaterThan(100);
      const midRun = await statusOf(firstRunId);
      expect(midRun.status).toBe('running');
      expect(nodeOf(midRun, 'video')?.status).toBe('running');
      expect(nodeOf(midRun, 'image')?.status).toBe('completed');

      await page.locator('[data-testid="run-phase"][data-phase="completed"]').waitFor({ timeout: 120_000 });
      for (const id of ['prompt', 'enhance', 'image', 'video', 'output'])
        expect(await page.getByTestId(`node-${id}`).getAttribute('data-state')).toBe('success');
      // Still the node's own picture after the run ended.
      expect(await picture.getAttribute('src')).toBe(
        `/api/workflow/runs/${firstRunId}/nodes/image/media/image`,
      );
      expect(app.pageErrors).toEqual([]);
    });

    it('reruns from the video node with a new motion: only the video runs again and is charged', async () => {
      await page.getByTestId('node-video').click();
      await page.getByLabel('Motion').selectOption('high');
      await page.getByTestId('node-video').getByRole('button', { name: 'Rerun from here' }).click();
      await expect.poll(runId).not.toBe(firstRunId);
      const rerunId = runId();
      expect(rerunId).toMatch(/^run_/);
      await page.locator('[data-testid="run-phase"][data-phase="completed"]').waitFor({ timeout: 120_000 });
      await page.locator('[data-testid="node-video"][data-state="success"]').waitFor();

      const [first, rerun] = [await statusOf(firstRunId), await statusOf(rerunId)];
      expect(rerun).toMatchObject({ status: 'completed', parentRunId: firstRunId, rerunFrom: 'video' });
      const videoPrice = nodeOf(first, 'video')?.cost ?? 0;
      expect(videoPrice).toBeGreaterThan(0);
      // prompt, enhance and image reused: their parent's outputs, charged nothing.
      for (const id of ['prompt', 'enhance', 'image']) {
        expect(nodeOf(rerun, id), id).toMatchObject({ status: 'completed', cost: 0 });
        expect(nodeOf(rerun, id)?.output, id).toEqual(nodeOf(first, id)?.output);
      }
      // The video ran again (its own new clip, with the new motion) and is the only charge.
      expect(nodeOf(rerun, 'video')).toMatchObject({ status: 'completed', cost: videoPrice });
      const clip = clipOf(rerun);
      expect(clip).toContain(`/runs/${rerunId}/`);
      expect(clip).not.toBe(clipOf(first));
      expect(rerun.cost.captured).toBe(videoPrice);
      expect(runway.tasks.length).toBe(2);
      const graph = await app.services.db
        .selectFrom('runs')
        .select('graph')
        .where('id', '=', rerunId)
        .executeTakeFirstOrThrow();
      const nodes = (graph.graph as { nodes: { id: string; config: Record<string, unknown> }[] }).nodes;
      expect(nodes.find((node) => node.id === 'video')?.config.motion).toBe('high');

      // The credit history: the rerun held and captured the video's price only, nothing for the reused steps.
      const history = await pageRequest(page, '/api/credits/history?limit=100');
      expect(history.status).toBe(200);
      const entries = (history.json as { entries: HistoryEntry[] }).entries.filter(
        (entry) => entry.runId === rerunId,
      );
      const captures = entries.filter((entry) => entry.kind === 'capture' && entry.amount > 0);
      expect(captures.map((entry) => [entry.nodeId, entry.amount])).toEqual([['video', videoPrice]]);
      expect(entries.find((entry) => entry.kind === 'reserve')?.amount).toBe(videoPrice);

      // The reused image shows from the rerun's own node route (its recorded output is the parent's).
      const picture = page.locator('[data-testid="node-image"] img.step-node__thumb');
      expect(await picture.getAttribute('src')).toBe(`/api/workflow/runs/${rerunId}/nodes/image/media/image`);
      await expect
        .poll(() => picture.evaluate((image: HTMLImageElement) => image.complete && image.naturalWidth > 0))
        .toBe(true);
      expect(app.pageErrors).toEqual([]);
    });
  });
}

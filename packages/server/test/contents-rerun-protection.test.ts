import { shortVideoTemplate } from '@vidgenie/nodes';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { collectOrphanMedia } from '../src/contents/collect-orphan-media.ts';
import { deleteExpiredMedia } from '../src/contents/delete-expired-media.ts';
import {
  CONTROLLED_VIDEO,
  controlledProviders,
  hasEnded,
  waitForRun,
  waitUntil,
} from './support/controlled-video.ts';
import { createTestApp, type TestApp, type TestUser } from './support/test-app.ts';
import { describeEachDatabase } from './support/test-databases.ts';

const DAY = 86_400_000;

describeEachDatabase('a rerun in progress protects the media it reuses', ({ database }) => {
  const { providers, control } = controlledProviders();
  let t: TestApp;
  let a: TestUser;
  beforeAll(async () => {
    t = await createTestApp(database(), { providers });
    a = await t.signUp();
  });
  afterAll(async () => {
    control.release();
    await t?.services.close();
  });

  const contentOf = (runId: string) =>
    waitUntil(`the content of ${runId}`, () =>
      t.services.db
        .selectFrom('contents')
        .select(['id', 'image_key', 'video_key', 'thumbnail_key', 'created_at'])
        .where('run_id', '=', runId)
        .executeTakeFirst(),
    );
  const exists = async (key: string | null) =>
    key !== null && (await t.services.media.blobs.stat({ key })) !== undefined;
  const queued = async (key: string) =>
    (await t.services.db
      .selectFrom('media_orphans')
      .select('key')
      .where('key', '=', key)
      .executeTakeFirst()) !== undefined;
  const execute = async (prompt: string) => {
    control.mode = 'render';
    const accepted = await a.request('POST', '/api/workflow/execute', {
      graph: shortVideoTemplate({ videoProvider: CONTROLLED_VIDEO, durationSeconds: 8 }),
      initialPrompt: prompt,
    });
    expect(accepted.status).toBe(202);
    const { runId } = (await accepted.json()) as { runId: string };
    expect((await waitForRun(a, runId, hasEnded)).status).toBe('completed');
    return runId;
  };
  /** Starts "same image, new video" on `runId`, its video step held until `control.release()`. */
  const heldRerun = async (runId: string) => {
    control.mode = 'hold';
    const rerun = await a.request('POST', `/api/workflow/runs/${runId}/rerun`, { fromNodeId: 'video' });
    expect(rerun.status).toBe(202);
    const { runId: rerunId } = (await rerun.json()) as { runId: string };
    await waitUntil('the rerun to reach its video step', async () => (control.held > 0 ? true : undefined));
    expect((await waitForRun(a, rerunId, () => true)).status).toBe('running');
    return rerunId;
  };

  it('DELETE of the parent content keeps the image while the rerun runs; it goes with the last content using it', async () => {
    const { blobs } = t.services.media;
    const parentId = await execute('a lighthouse in a storm');
    const parent = await contentOf(parentId);
    const image = parent.image_key as string;
    expect(image.startsWith(`users/${a.id}/runs/${parentId}/`)).toBe(true);

    const rerunId = await heldRerun(parentId);
    const deleted = await a.request('DELETE', `/api/contents/${parent.id}`);
    expect(deleted.status).toBe(204);
    expect((await a.request('GET', `/api/contents/${parent.id}`)).status).toBe(404);
    // The rerun may read what its parent wrote: every parent blob stays, queued for the cleanup job.
    for (const key of [parent.image_key, parent.video_key, parent.thumbnail_key]) {
      expect(await exists(key), key ?? '').toBe(true);
      expect(await queued(key as string)).toBe(true);
    }
    // The cleanup job meanwhile leaves them alone.
    expect(await collectOrphanMedia({ db: t.services.db, blobs, now: new Date(), graceHours: 24 })).toEqual({
      blobsDeleted: 0,
      blobsKept: 0,
      blobsWaiting: 3,
      blobsFailed: 0,
    });

    control.mode = 'render';
    control.release();
    expect((await waitForRun(a, rerunId, hasEnded)).status).toBe('completed');
    const rerun = await contentOf(rerunId);
    expect(rerun.image_key).toBe(image);
    expect(rerun.video_key?.includes(`/runs/${rerunId}/`)).toBe(true);
    const served = await a.request('GET', `/api/contents/${rerun.id}/media/image`);
    expect(served.status).toBe(200);
    expect(new Uint8Array(await served.arrayBuffer()).length).toBeGreaterThan(0);

    // An hour later (re-check time): the rerun's content now owns the image; the parent's video
    // and thumbnail, which nothing references, go.
    const later = new Date(Date.now() + 3_600_000 + 60_000);
    expect(await collectOrphanMedia({ db: t.services.db, blobs, now: later, graceHours: 24 })).toEqual({
      blobsDeleted: 2,
      blobsKept: 1,
      blobsWaiting: 0,
      blobsFailed: 0,
    });
    expect(await exists(image)).toBe(true);
    expect(await exists(parent.video_key)).toBe(false);
    expect(await exists(parent.thumbnail_key)).toBe(false);
    expect(await queued(image)).toBe(false);

    // The last content using the image goes: the image goes with it.
    expect((await a.request('DELETE', `/api/contents/${rerun.id}`)).status).toBe(204);
    for (const key of [rerun.image_key, rerun.video_key, rerun.thumbnail_key]) {
      expect(await exists(key), key ?? '').toBe(false);
    }
    expect(await collectOrphanMedia({ db: t.services.db, blobs, now: later, graceHours: 24 })).toEqual({
      blobsDeleted: 0,
      blobsKept: 0,
      blobsWaiting: 0,
      blobsFailed: 0,
    });
  });

  it('retention keeps an expired parent’s image while a rerun of it runs', async () => {
    const { db } = t.services;
    const { blobs } = t.services.media;
    const parentId = await execute('a harbour at dawn');
    const parent = await contentOf(parentId);
    const rerunId = await heldRerun(parentId);
    const at = new Date(parent.created_at.getTime() + 2 * DAY);
    const report = await deleteExpiredMedia({ db, blobs, now: at, retentionDays: 1 });
    expect(report.contents).toBeGreaterThanOrEqual(1);
    expect(await exists(parent.image_key)).toBe(true);
    expect(await queued(parent.image_key as string)).toBe(true);

    control.mode = 'render';
    control.release();
    expect((await waitForRun(a, rerunId, hasEnded)).status).toBe('completed');
    const rerun = await contentOf(rerunId);
    expect(rerun.image_key).toBe(parent.image_key);
    const served = await a.request('GET', `/api/contents/${rerun.id}/media/image`);
    expect(served.status).toBe(200);
    await served.body?.cancel();
  });
});

import { shortVideoTemplate } from '@vidgenie/nodes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/server-config.ts';
import { collectOrphanMedia } from '../src/contents/collect-orphan-media.ts';
import {
  CONTROLLED_VIDEO,
  controlledProviders,
  hasEnded,
  type RunStatusBody,
  waitForRun,
  waitUntil,
} from './support/controlled-video.ts';
import { createTestApp, type TestApp, type TestUser } from './support/test-app.ts';
import { describeEachDatabase } from './support/test-databases.ts';

const HOUR = 3_600_000;

describe('VIDGENIE_ORPHAN_MEDIA_HOURS', () => {
  it('defaults to 24 and is a whole number of hours from 1 to 8760', () => {
    expect(loadConfig({}).VIDGENIE_ORPHAN_MEDIA_HOURS).toBe(24);
    expect(loadConfig({ VIDGENIE_ORPHAN_MEDIA_HOURS: '6' }).VIDGENIE_ORPHAN_MEDIA_HOURS).toBe(6);
    for (const bad of ['0', '-1', '1.5', '8761', 'a day']) {
      expect(() => loadConfig({ VIDGENIE_ORPHAN_MEDIA_HOURS: bad }), bad).toThrow(ConfigError);
    }
  });
});

describeEachDatabase('media of failed and cancelled runs', ({ database }) => {
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

  const collect = (now: Date) =>
    collectOrphanMedia({ db: t.services.db, blobs: t.services.media.blobs, now, graceHours: 24 });
  const exists = async (key: string) => (await t.services.media.blobs.stat({ key })) !== undefined;
  const orphanRow = (key: string) =>
    t.services.db
      .selectFrom('media_orphans')
      .select(['key', 'user_id', 'run_id', 'eligible_at'])
      .where('key', '=', key)
      .executeTakeFirst();
  const finishedAt = async (runId: string) =>
    (
      await t.services.db
        .selectFrom('runs')
        .select('finished_at')
        .where('id', '=', runId)
        .executeTakeFirstOrThrow()
    ).finished_at as Date;
  const imageKeyOf = (run: RunStatusBody) => {
    const output = run.nodes.find((node) => node.nodeId === 'image')?.output as
      | { image?: { key?: string } }
      | undefined;
    const key = output?.image?.key;
    if (key === undefined) throw new Error('the image node has no image');
    return key;
  };
  /** Starts a run whose video step behaves as `mode` says. */
  const start = async (mode: 'render' | 'fail' | 'hold', prompt: string) => {
    control.mode = mode;
    const accepted = await a.request('POST', '/api/workflow/execute', {
      graph: shortVideoTemplate({ videoProvider: CONTROLLED_VIDEO, durationSeconds: 8 }),
      initialPrompt: prompt,
    });
    expect(accepted.status).toBe(202);
    return ((await accepted.json()) as { runId: string }).runId;
  };
  /** A run that failed at its video step, after its image node stored the picture. */
  const failedRun = async (prompt: string) => {
    const runId = await start('fail', prompt);
    const run = await waitForRun(a, runId, hasEnded);
    expect(run.status).toBe('failed');
    const image = imageKeyOf(run);
    expect(image.startsWith(`users/${a.id}/runs/${runId}/`)).toBe(true);
    expect(await exists(image)).toBe(true);
    // Queued when the run ended, for the grace period after its end.
    const row = await waitUntil('the orphan row', () => orphanRow(image));
    expect(row).toMatchObject({ user_id: a.id, run_id: runId });
    const ended = await finishedAt(runId);
    expect(row.eligible_at.getTime() - ended.getTime()).toBeGreaterThanOrEqual(24 * HOUR);
    expect(row.eligible_at.getTime() - ended.getTime()).toBeLessThan(25 * HOUR);
    return { runId, image, ended };
  };

  it('keeps a failed run’s image for the grace period, and for good once a "rerun from here" uses it', async () => {
    const failed = await failedRun('a fox in the snow');
    // Within the grace period nothing is collected.
    expect(await collect(new Date(failed.ended.getTime() + 23 * HOUR))).toEqual({
      blobsDeleted: 0,
      blobsKept: 0,
      blobsWaiting: 0,
      blobsFailed: 0,
    });
    expect(await exists(failed.image)).toBe(true);

    // The creator reruns the failed run from its video step: the image is reused under its key.
    control.mode = 'render';
    const rerun = await a.request('POST', `/api/workflow/runs/${failed.runId}/rerun`, {
      fromNodeId: 'video',
    });
    expect(rerun.status).toBe(202);
    const { runId: rerunId } = (await rerun.json()) as { runId: string };
    expect((await waitForRun(a, rerunId, hasEnded)).status).toBe('completed');
    const content = await waitUntil('the rerun content', () =>
      t.services.db
        .selectFrom('contents')
        .select(['id', 'image_key'])
        .where('run_id', '=', rerunId)
        .executeTakeFirst(),
    );
    expect(content.image_key).toBe(failed.image);

    // After the grace period the image belongs to the rerun's content: it leaves the queue, stays.
    expect(await collect(new Date(failed.ended.getTime() + 25 * HOUR))).toEqual({
      blobsDeleted: 0,
      blobsKept: 1,
      blobsWaiting: 0,
      blobsFailed: 0,
    });
    expect(await exists(failed.image)).toBe(true);
    expect(await orphanRow(failed.image)).toBeUndefined();
    const served = await a.request('GET', `/api/contents/${content.id}/media/image`);
    expect(served.status).toBe(200);
    await served.body?.cancel();
  });

  it('deletes a failed run’s media after the grace period, exactly once with two cleanups at the same time', async () => {
    const failed = await failedRun('a storm over the sea');
    const at = new Date(failed.ended.getTime() + 25 * HOUR);
    const [one, two] = await Promise.all([collect(at), collect(at)]);
    expect(one.blobsDeleted + two.blobsDeleted).toBe(1);
    expect(one.blobsFailed + two.blobsFailed).toBe(0);
    expect(await exists(failed.image)).toBe(false);
    expect(await orphanRow(failed.image)).toBeUndefined();
    // Again: nothing left to do.
    expect((await collect(at)).blobsDeleted).toBe(0);
  });

  it('is no error when the blob is already gone', async () => {
    const failed = await failedRun('a desert at noon');
    await t.services.media.blobs.delete({ key: failed.image });
    expect(await collect(new Date(failed.ended.getTime() + 25 * HOUR))).toEqual({
      blobsDeleted: 1,
      blobsKept: 0,
      blobsWaiting: 0,
      blobsFailed: 0,
    });
    expect(await orphanRow(failed.image)).toBeUndefined();
  });

  it('collects the media of a cancelled run too', async () => {
    const runId = await start('hold', 'a city at night');
    await waitUntil('the video step to start', async () => (control.held > 0 ? true : undefined));
    // The status folds the stored events, which the process stores beside the run: wait for the
    // image step's completion to be among them.
    const running = await waitForRun(a, runId, (run) =>
      run.nodes.some((node) => node.nodeId === 'image' && node.status === 'completed'),
    );
    const image = imageKeyOf(running);
    const cancelled = await a.request('POST', `/api/workflow/runs/${runId}/cancel`);
    expect(cancelled.status).toBe(202);
    expect((await waitForRun(a, runId, hasEnded)).status).toBe('cancelled');
    await waitUntil('the orphan row', () => orphanRow(image));
    const ended = await finishedAt(runId);
    expect((await collect(new Date(ended.getTime() + 23 * HOUR))).blobsDeleted).toBe(0);
    expect(await exists(image)).toBe(true);
    expect((await collect(new Date(ended.getTime() + 25 * HOUR))).blobsDeleted).toBe(1);
    expect(await exists(image)).toBe(false);
  });

  it('collects media a step wrote before a crash, which no checkpoint names', async () => {
    const runId = await start('hold', 'a harbour at dawn');
    await waitUntil('the video step to start', async () => (control.held > 0 ? true : undefined));
    // What an earlier attempt of the video step left when its worker died before the checkpoint.
    const stray = `users/${a.id}/runs/${runId}/video.mp4`;
    await t.services.media.blobs.put({ key: stray, body: new Uint8Array([1, 2, 3]), mimeType: 'video/mp4' });
    const cancelled = await a.request('POST', `/api/workflow/runs/${runId}/cancel`);
    expect(cancelled.status).toBe(202);
    expect((await waitForRun(a, runId, hasEnded)).status).toBe('cancelled');
    const row = await waitUntil('the stray orphan row', () => orphanRow(stray));
    expect(row).toMatchObject({ user_id: a.id, run_id: runId });
    const ended = await finishedAt(runId);
    expect(await exists(stray)).toBe(true);
    await collect(new Date(ended.getTime() + 25 * HOUR));
    expect(await exists(stray)).toBe(false);
  });

  it('leaves completed runs’ media to their contents', async () => {
    const runId = await start('render', 'a meadow in spring');
    expect((await waitForRun(a, runId, hasEnded)).status).toBe('completed');
    const rows = await t.services.db
      .selectFrom('media_orphans')
      .select('key')
      .where('run_id', '=', runId)
      .execute();
    expect(rows).toEqual([]);
  });
});

import { shortVideoTemplate } from '@vidgenie/nodes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/server-config.ts';
import { deleteExpiredMedia } from '../src/contents/delete-expired-media.ts';
import { createTestApp, type TestApp, type TestUser } from './support/test-app.ts';
import { describeEachDatabase } from './support/test-databases.ts';

const DAY = 86_400_000;

interface ContentBody {
  id: string;
  runId: string;
  media: { image: { url: string } | null };
}

async function waitForRunEnd(user: TestUser, runId: string, timeoutMs = 90_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const body = (await (await user.request('GET', `/api/workflow/status/${runId}`)).json()) as {
      status: string;
    };
    if (!['queued', 'running'].includes(body.status)) return body.status;
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${body.status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function waitForContent(user: TestUser, runId: string, timeoutMs = 10_000): Promise<ContentBody> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const page = (await (await user.request('GET', '/api/contents?limit=100')).json()) as {
      contents: ContentBody[];
    };
    const found = page.contents.find((content) => content.runId === runId);
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no content for run ${runId}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('VIDGENIE_MEDIA_RETENTION_DAYS', () => {
  it('is optional (keep forever) and a positive whole number of days', () => {
    expect(loadConfig({}).VIDGENIE_MEDIA_RETENTION_DAYS).toBeUndefined();
    expect(loadConfig({ VIDGENIE_MEDIA_RETENTION_DAYS: '30' }).VIDGENIE_MEDIA_RETENTION_DAYS).toBe(30);
    for (const bad of ['0', '-1', '1.5', 'a month']) {
      expect(() => loadConfig({ VIDGENIE_MEDIA_RETENTION_DAYS: bad }), bad).toThrow(ConfigError);
    }
  });
});

describeEachDatabase('media retention', ({ database }) => {
  let t: TestApp;
  let offset = 0;
  const now = () => new Date(Date.now() + offset);
  beforeAll(async () => {
    t = await createTestApp(database(), { now });
  });
  afterAll(async () => {
    await t?.services.close();
  });

  it('deletes contents older than the period with their media, keeping images newer reruns still use', async () => {
    const { db } = t.services;
    const blobs = t.services.media.blobs;
    const a = await t.signUp();
    const accepted = await a.request('POST', '/api/workflow/execute', {
      graph: shortVideoTemplate({ durationSeconds: 8 }),
      initialPrompt: 'an old harbour',
    });
    const { runId } = (await accepted.json()) as { runId: string };
    expect(await waitForRunEnd(a, runId)).toBe('completed');
    const old = await waitForContent(a, runId);

    // Two days later (sessions last 7 idle days), "same image, new video".
    offset = 2 * DAY;
    const rerun = await a.request('POST', `/api/workflow/runs/${runId}/rerun`, { fromNodeId: 'video' });
    expect(rerun.status).toBe(202);
    const { runId: rerunId } = (await rerun.json()) as { runId: string };
    expect(await waitForRunEnd(a, rerunId)).toBe('completed');
    const newer = await waitForContent(a, rerunId);
    const keysOf = (id: string) =>
      db
        .selectFrom('contents')
        .select(['image_key', 'video_key', 'thumbnail_key', 'created_at'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
    const oldKeys = await keysOf(old.id);
    const newKeys = await keysOf(newer.id);
    expect(newKeys.image_key).toBe(oldKeys.image_key);
    expect(newKeys.created_at.getTime() - oldKeys.created_at.getTime()).toBeGreaterThanOrEqual(2 * DAY);

    // A 3-day retention. Day 2.9: nothing is old enough.
    const retentionDays = 3;
    const at = (days: number) => new Date(oldKeys.created_at.getTime() + days * DAY);
    expect(await deleteExpiredMedia({ db, blobs, now: at(2.9), retentionDays })).toEqual({
      contents: 0,
      blobsDeleted: 0,
      blobsKept: 0,
      blobsFailed: 0,
    });

    // Day 4: the first content goes; its image stays for the rerun.
    expect(await deleteExpiredMedia({ db, blobs, now: at(4), retentionDays, batchSize: 1 })).toEqual({
      contents: 1,
      blobsDeleted: 2,
      blobsKept: 1,
      blobsFailed: 0,
    });
    expect((await a.request('GET', `/api/contents/${old.id}`)).status).toBe(404);
    expect(await blobs.stat({ key: oldKeys.video_key as string })).toBeUndefined();
    expect(await blobs.stat({ key: oldKeys.thumbnail_key as string })).toBeUndefined();
    const image = await a.request('GET', newer.media.image?.url as string);
    expect(image.status).toBe(200);
    await image.body?.cancel();
    // Running again changes nothing.
    expect((await deleteExpiredMedia({ db, blobs, now: at(4), retentionDays })).contents).toBe(0);

    // Day 6: the rerun's content expires too, with every file, the shared image included.
    expect(await deleteExpiredMedia({ db, blobs, now: at(6), retentionDays })).toEqual({
      contents: 1,
      blobsDeleted: 3,
      blobsKept: 0,
      blobsFailed: 0,
    });
    for (const key of [newKeys.image_key, newKeys.video_key, newKeys.thumbnail_key]) {
      expect(await blobs.stat({ key: key as string })).toBeUndefined();
    }
    const listed = (await (await a.request('GET', '/api/contents')).json()) as { contents: unknown[] };
    expect(listed.contents).toEqual([]);
    // The runs and their history stay; only the library and the media go.
    expect((await a.request('GET', `/api/workflow/status/${rerunId}`)).status).toBe(200);
    await expect(deleteExpiredMedia({ db, blobs, now: at(6), retentionDays: 0 })).rejects.toThrow(RangeError);
  });
});

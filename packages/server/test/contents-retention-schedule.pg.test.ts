import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BlobStore, shortVideoTemplate } from '@vidgenie/nodes';
import PgBoss from 'pg-boss';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../src/config/server-config.ts';
import {
  MEDIA_CLEANUP_CRON,
  MEDIA_CLEANUP_JOB,
  type MediaCleanupReport,
  runMediaCleanup,
  startMediaCleanup,
} from '../src/contents/media-cleanup.ts';
import { createLogger } from '../src/log/create-logger.ts';
import { type RunDispatch, startRunDispatch } from '../src/runs/pg-boss-dispatch.ts';
import { createServices } from '../src/services/create-services.ts';
import {
  CONTROLLED_VIDEO,
  controlledProviders,
  hasEnded,
  waitForRun,
  waitUntil,
} from './support/controlled-video.ts';
import { createTestApp, type TestApp } from './support/test-app.ts';
import { describePostgres } from './support/test-databases.ts';

const DAY = 86_400_000;
const silent = createLogger({ level: 'silent' });

/**
 * The media cleanup job in distributed mode, on a real PostgreSQL: `createServices` registers the
 * pg-boss schedule, and the scheduled job, handled by two workers and delivered more than once,
 * deletes expired contents' media and failed runs' orphans exactly once.
 */
describePostgres('media cleanup schedule', ({ database }) => {
  const { providers, control } = controlledProviders();
  let t: TestApp;
  const dispatches: RunDispatch[] = [];
  let sender: PgBoss | undefined;
  beforeAll(async () => {
    t = await createTestApp(database(), { providers, env: { DATABASE_URL: database().url } });
  });
  afterAll(async () => {
    control.release();
    await sender?.stop({ graceful: false, close: true, wait: true });
    for (const dispatch of dispatches) await dispatch.stop();
    await t?.services.close({ graceMs: 5_000 });
  });

  const schedules = async () => {
    const boss = new PgBoss({ connectionString: database().url, supervise: false, schedule: false });
    await boss.start();
    try {
      return (await boss.getSchedules()).map((schedule) => ({ name: schedule.name, cron: schedule.cron }));
    } finally {
      await boss.stop({ graceful: false, close: true, wait: true });
    }
  };

  it('createServices registers the hourly schedule in distributed mode', async () => {
    const config = loadConfig({
      DATABASE_URL: database().url,
      VIDGENIE_DATA_DIR: mkdtempSync(join(tmpdir(), 'vidgenie-schedule-')),
      VIDGENIE_MEDIA_RETENTION_DAYS: '3',
      NODE_ENV: 'test',
    });
    const services = await createServices(config, { database: database(), log: silent, work: false });
    try {
      expect(await schedules()).toContainEqual({ name: MEDIA_CLEANUP_JOB, cron: MEDIA_CLEANUP_CRON });
      expect(MEDIA_CLEANUP_CRON).toBe('17 * * * *');
    } finally {
      await services.close({ graceMs: 1_000 });
    }
  });

  it('the scheduled job deletes expired and orphan media exactly once, with two workers and a job delivered twice', async () => {
    const { db } = t.services;
    const user = await t.signUp();
    const run = async (mode: 'render' | 'fail', prompt: string) => {
      control.mode = mode;
      const accepted = await user.request('POST', '/api/workflow/execute', {
        graph: shortVideoTemplate({ videoProvider: CONTROLLED_VIDEO, durationSeconds: 8 }),
        initialPrompt: prompt,
      });
      expect(accepted.status).toBe(202);
      const { runId } = (await accepted.json()) as { runId: string };
      return { runId, status: (await waitForRun(user, runId, hasEnded)).status };
    };
    const done = await run('render', 'an old mill');
    expect(done.status).toBe('completed');
    const failed = await run('fail', 'a broken bridge');
    expect(failed.status).toBe('failed');
    const content = await waitUntil('the content', () =>
      db
        .selectFrom('contents')
        .select(['id', 'image_key', 'video_key', 'thumbnail_key'])
        .where('run_id', '=', done.runId)
        .executeTakeFirst(),
    );
    const orphan = await waitUntil('the failed run’s orphan', () =>
      db.selectFrom('media_orphans').select('key').where('run_id', '=', failed.runId).executeTakeFirst(),
    );
    const keys = [content.image_key, content.video_key, content.thumbnail_key, orphan.key] as string[];
    const { blobs } = t.services.media;
    for (const key of keys) expect(await blobs.stat({ key })).toBeDefined();

    // Two workers, each with its own pg-boss and the job's handler, ten days on.
    const reports: MediaCleanupReport[] = [];
    const deletes: string[] = [];
    const counting: BlobStore = {
      ...blobs,
      delete: async (args) => {
        deletes.push(args.key);
        await blobs.delete(args);
      },
    };
    const tasks = [0, 1].map(() => async () => {
      reports.push(
        await runMediaCleanup({
          db,
          blobs: counting,
          now: new Date(Date.now() + 10 * DAY),
          retentionDays: 3,
          orphanHours: 24,
        }),
      );
    });
    for (const task of tasks) {
      const dispatch = await startRunDispatch({ connectionString: database().url, log: silent, poolSize: 2 });
      dispatches.push(dispatch);
      await startMediaCleanup({ task, dispatch, work: true, log: silent, pollingIntervalSeconds: 1 });
    }
    expect(await schedules()).toContainEqual({ name: MEDIA_CLEANUP_JOB, cron: MEDIA_CLEANUP_CRON });

    // A tick's job (as the cron would send it), then the same tick delivered again.
    sender = new PgBoss({ connectionString: database().url, supervise: false, schedule: false });
    await sender.start();
    for (const delivery of [1, 2]) {
      expect(await sender.send(MEDIA_CLEANUP_JOB, {})).not.toBeNull();
      await waitUntil(`delivery ${delivery} to be handled`, async () =>
        reports.length >= delivery ? true : undefined,
      );
    }
    // And both workers handling a tick at the same moment.
    await Promise.all(tasks.map((task) => task()));

    const sum = (pick: (report: MediaCleanupReport) => number) =>
      reports.reduce((total, report) => total + pick(report), 0);
    expect(reports.length).toBeGreaterThanOrEqual(4);
    expect(sum((report) => report.retention?.contents ?? 0)).toBe(1);
    expect(sum((report) => (report.retention?.blobsDeleted ?? 0) + report.orphans.blobsDeleted)).toBe(4);
    expect(sum((report) => (report.retention?.blobsFailed ?? 0) + report.orphans.blobsFailed)).toBe(0);
    expect([...deletes].sort()).toEqual([...keys].sort());
    for (const key of keys) expect(await blobs.stat({ key })).toBeUndefined();
    expect(
      await db.selectFrom('contents').select('id').where('id', '=', content.id).executeTakeFirst(),
    ).toBeUndefined();
    expect(await db.selectFrom('media_orphans').select('key').where('key', 'in', keys).execute()).toEqual([]);
  });
});

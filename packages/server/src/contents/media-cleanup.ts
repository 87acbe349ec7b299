import type { BlobStore } from '@vidgenie/nodes';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DB } from '../db/schema.ts';
import type { RunDispatch } from '../runs/pg-boss-dispatch.ts';
import { type CollectOrphanMediaResult, collectOrphanMedia } from './collect-orphan-media.ts';
import type { DeleteContentsResult } from './delete-contents.ts';
import { deleteExpiredMedia } from './delete-expired-media.ts';

/**
 * The pg-boss schedule (and queue) of the media cleanup job in distributed mode. The name is the
 * one retention was first scheduled under, so an existing deployment's schedule carries on.
 */
export const MEDIA_CLEANUP_JOB = 'vidgenie-media-retention';
/** When the media cleanup job runs in distributed mode: minute 17 of every hour. */
export const MEDIA_CLEANUP_CRON = '17 * * * *';

/** Options of {@link runMediaCleanup}. */
export interface MediaCleanupOptions {
  readonly db: Kysely<DB>;
  readonly blobs: BlobStore;
  /** The current time. */
  readonly now: Date;
  /** `VIDGENIE_MEDIA_RETENTION_DAYS`: contents older than this are deleted; none when undefined. */
  readonly retentionDays?: number | undefined;
  /** `VIDGENIE_ORPHAN_MEDIA_HOURS`: how long a failed or cancelled run's media waits. */
  readonly orphanHours: number;
  readonly log?: Pick<Logger, 'warn'>;
}

/** What one pass of {@link runMediaCleanup} did. */
export interface MediaCleanupReport {
  /** The retention pass; undefined without `VIDGENIE_MEDIA_RETENTION_DAYS`. */
  readonly retention: DeleteContentsResult | undefined;
  /** The orphan pass. */
  readonly orphans: CollectOrphanMediaResult;
}

/**
 * One pass of the media cleanup job: retention first (expired contents and the media no one else
 * references, when `retentionDays` is set), then the orphans (`collectOrphanMedia`: media of failed
 * or cancelled runs past their grace period, and blobs a content left to a run that has ended
 * since), which also picks up what retention left to live runs. Safe to run on several workers at
 * once: each content and each orphan key is claimed by one transaction.
 *
 * @example
 * ```ts
 * import { createFsBlobStore } from '@vidgenie/nodes';
 * import { migrateToLatest, openDatabase, runMediaCleanup } from '@vidgenie/server';
 * const { db, close } = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
 * await migrateToLatest(db);
 * const blobs = createFsBlobStore({ root: './.vidgenie-example/media' });
 * const report = await runMediaCleanup({ db, blobs, now: new Date(), retentionDays: 30, orphanHours: 24 });
 * console.log(report.orphans.blobsDeleted);
 * await close();
 * ```
 */
export async function runMediaCleanup(options: MediaCleanupOptions): Promise<MediaCleanupReport> {
  const { db, blobs, now, retentionDays, orphanHours, log } = options;
  const withLog = log === undefined ? {} : { log };
  const retention =
    retentionDays === undefined
      ? undefined
      : await deleteExpiredMedia({
          db,
          blobs,
          now,
          retentionDays,
          orphanGraceHours: orphanHours,
          ...withLog,
        });
  const orphans = await collectOrphanMedia({ db, blobs, now, graceHours: orphanHours, ...withLog });
  return { retention, orphans };
}

/** Options of {@link startMediaCleanup}. */
export interface StartMediaCleanupOptions {
  /** One pass of the job (normally {@link runMediaCleanup} with the services' settings). */
  readonly task: () => Promise<void>;
  /** Distributed mode: the job becomes a pg-boss schedule, run by one worker a tick. */
  readonly dispatch?: RunDispatch | undefined;
  /** Whether this process executes the scheduled job (distributed mode; `VIDGENIE_RUN_WORKER`). */
  readonly work: boolean;
  readonly log: Pick<Logger, 'error'>;
  /** Embedded mode's period (default an hour). */
  readonly intervalMs?: number;
  /** Distributed mode: how often workers look for the tick's job (default 30 s). */
  readonly pollingIntervalSeconds?: number;
}

/**
 * Starts the media cleanup job: embedded, an hourly timer in this process; distributed, the pg-boss
 * schedule {@link MEDIA_CLEANUP_JOB} at {@link MEDIA_CLEANUP_CRON}, whose job one worker takes per
 * tick (a job delivered twice, or run by two workers, is harmless: see {@link runMediaCleanup}).
 * Returns the function that stops the timer (the schedule stops with the dispatch).
 * @internal
 */
export async function startMediaCleanup(options: StartMediaCleanupOptions): Promise<() => void> {
  const { task, dispatch, log } = options;
  if (dispatch !== undefined) {
    await dispatch.every(MEDIA_CLEANUP_JOB, MEDIA_CLEANUP_CRON, task, {
      work: options.work,
      ...(options.pollingIntervalSeconds === undefined
        ? {}
        : { pollingIntervalSeconds: options.pollingIntervalSeconds }),
    });
    return () => {};
  }
  const timer = setInterval(() => {
    task().catch((error: unknown) => log.error({ err: error }, 'media cleanup failed; retrying in an hour'));
  }, options.intervalMs ?? 3_600_000);
  timer.unref();
  return () => clearInterval(timer);
}

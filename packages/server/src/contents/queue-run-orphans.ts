import type { BlobStore } from '@vidgenie/nodes';
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { RunEnded } from '../runs/run-executor.ts';
import { DEFAULT_ORPHAN_GRACE_HOURS } from './delete-contents.ts';

/** Options of {@link queueRunOrphans}. */
export interface QueueRunOrphansOptions {
  readonly db: Kysely<DB>;
  /** The clock (default: the system clock), as runs use the services' clock. */
  readonly now?: () => Date;
  /** `VIDGENIE_ORPHAN_MEDIA_HOURS` (default 24): how long the run's media stays for a rerun. */
  readonly graceHours?: number;
  /**
   * The blob store (unscoped keys). When it can `list`, every object under the run's folder is
   * queued too: media a step wrote before a crash, that no checkpoint names.
   */
  readonly blobs?: BlobStore;
}

const HOUR_MS = 3_600_000;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The blob keys of a node's output: every port holding a media reference (`{ key }`). */
function mediaKeysOf(output: unknown): string[] {
  if (!isRecord(output)) return [];
  return Object.values(output).flatMap((ref) =>
    isRecord(ref) && typeof ref.key === 'string' ? [ref.key] : [],
  );
}

/**
 * The run executor's `onRunEnded` listener for media no content will ever reference: when a run
 * fails or is cancelled, the media keys its nodes recorded (the completed rows of
 * `node_checkpoints`, so a run cancelled while no one executed it counts too, and the outcome's
 * outputs), and with a listing blob store every object under the run's folder (a step that wrote
 * media and crashed before its checkpoint), are queued in `media_orphans`, eligible `graceHours`
 * after the end. Reused keys of a
 * parent run are queued as well: the cleanup job (`collectOrphanMedia`) applies the reference rule
 * before deleting anything, so a key a content or a live run still uses stays. Only keys under the
 * owner's prefix (`users/<userId>/`) or the older `runs/` layout are queued. Completed runs queue
 * nothing (their media belongs to their content). Idempotent: a key already queued keeps the later
 * of the two times.
 *
 * @example
 * ```ts
 * import { createRunExecutor, createServices, loadConfig, queueRunOrphans } from '@vidgenie/server';
 * const services = await createServices(loadConfig({ VIDGENIE_DATA_DIR: './.vidgenie-example' }));
 * const executor = createRunExecutor({
 *   ...services,
 *   dataDir: services.config.VIDGENIE_DATA_DIR,
 *   onRunEnded: [(ended) => queueRunOrphans({ db: services.db, graceHours: 24 }, ended)],
 * });
 * ```
 */
export async function queueRunOrphans(options: QueueRunOrphansOptions, ended: RunEnded): Promise<void> {
  if (ended.status !== 'failed' && ended.status !== 'cancelled') return;
  const { db } = options;
  const nodes = await db
    .selectFrom('node_checkpoints')
    .select('record')
    .where('run_id', '=', ended.runId)
    .where('status', '=', 'completed')
    .execute();
  const keys = new Set<string>([
    ...nodes.flatMap((node) => mediaKeysOf(isRecord(node.record) ? node.record.output : undefined)),
    ...Object.values(ended.outcome.outputs).flatMap(mediaKeysOf),
  ]);
  const list = options.blobs?.list?.bind(options.blobs);
  if (list !== undefined) {
    for await (const key of list({ prefix: `users/${ended.userId}/runs/${ended.runId}/` })) keys.add(key);
  }
  const owned = [...keys].filter(
    (key) =>
      (key.startsWith(`users/${ended.userId}/runs/`) || key.startsWith('runs/')) &&
      !key.split('/').includes('..') &&
      key.length <= 1024,
  );
  if (owned.length === 0) return;
  const now = (options.now ?? (() => new Date()))();
  const eligibleAt = new Date(now.getTime() + (options.graceHours ?? DEFAULT_ORPHAN_GRACE_HOURS) * HOUR_MS);
  await db
    .insertInto('media_orphans')
    .values(
      owned.map((key) => ({ key, user_id: ended.userId, run_id: ended.runId, eligible_at: eligibleAt })),
    )
    .onConflict((conflict) =>
      conflict.column('key').doUpdateSet((eb) => ({
        eligible_at: eb.fn('greatest', [eb.ref('media_orphans.eligible_at'), eb.ref('excluded.eligible_at')]),
      })),
    )
    .execute();
}

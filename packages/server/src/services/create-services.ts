import { join } from 'node:path';
import {
  createFfmpegMediaTools,
  type MediaServices,
  type ProviderRegistry,
  setFfmpegConcurrency,
  setFfmpegNiceness,
} from '@vidgenie/nodes';
import type { Logger } from 'pino';
import { createSessionFinder } from '../accounts/session-finder.ts';
import { runAnalyticsListener } from '../analytics/run-analytics-listener.ts';
import { tapRunFacts } from '../analytics/tap-run-facts.ts';
import { ConfigError, type ServerConfig } from '../config/server-config.ts';
import { createBlobStore } from '../contents/create-blob-store.ts';
import { runMediaCleanup, startMediaCleanup } from '../contents/media-cleanup.ts';
import { createMediaRedirects } from '../contents/media-redirects.ts';
import { queueRunOrphans } from '../contents/queue-run-orphans.ts';
import { recordContent } from '../contents/record-content.ts';
import { autovacuumWarning } from '../db/autovacuum-warning.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { type Database, type DatabaseOptions, openDatabase } from '../db/open-database.ts';
import { createUserEventHub } from '../events/user-event-hub.ts';
import type { AppServices } from '../http/app-env.ts';
import { createRateLimits } from '../http/rate-limits.ts';
import { createCreditLedger } from '../ledger/credit-ledger.ts';
import { startLedgerMaintenance } from '../ledger/start-ledger-maintenance.ts';
import { createLogger } from '../log/create-logger.ts';
import { createMetrics } from '../metrics/create-metrics.ts';
import { limitProviderKeys } from '../providers/limit-provider-keys.ts';
import { createMemoryKeyBackoffStore } from '../providers/memory-key-backoff-store.ts';
import { parseProviderKeyConcurrency } from '../providers/parse-provider-key-concurrency.ts';
import { serverProviders } from '../providers/server-providers.ts';
import { createSqlKeyBackoffStore } from '../providers/sql-key-backoff-store.ts';
import { pruneIdempotencyKeys } from '../runs/idempotency-keys.ts';
import { startRunDispatch } from '../runs/pg-boss-dispatch.ts';
import { startPgEventBridge } from '../runs/pg-event-bridge.ts';
import { createRunExecutor } from '../runs/run-executor.ts';
import { createProviderKeyVault } from '../vault/provider-key-vault.ts';
import { type ResolvedKeyRing, resolveKeyRing } from '../vault/resolve-key-ring.ts';
import { startBackgroundRewrap } from '../vault/start-background-rewrap.ts';

/** Where the configuration puts the data: PostgreSQL from `DATABASE_URL`, else PGlite under `VIDGENIE_DATA_DIR/pglite`. */
export function databaseOptions(
  config: Pick<
    ServerConfig,
    'DATABASE_URL' | 'VIDGENIE_DATA_DIR' | 'VIDGENIE_DB_POOL_SIZE' | 'VIDGENIE_LEASE_SECONDS'
  >,
): DatabaseOptions {
  return config.DATABASE_URL === undefined
    ? { kind: 'pglite', dataDir: join(config.VIDGENIE_DATA_DIR, 'pglite') }
    : {
        kind: 'postgres',
        url: config.DATABASE_URL,
        maxConnections: config.VIDGENIE_DB_POOL_SIZE,
        // A frozen worker's open transaction ends, and its locks go, within half a lease: the
        // worker taking its runs over is not left waiting on them.
        idleInTransactionTimeoutMs: Math.min(10_000, Math.max(2_000, config.VIDGENIE_LEASE_SECONDS * 500)),
      };
}

/** Options of {@link createServices}; each replaces what the configuration would build. */
export interface CreateServicesOptions {
  /** An open database (tests); otherwise opened from the configuration and closed with the services. */
  readonly database?: Database;
  readonly log?: Logger;
  readonly providers?: ProviderRegistry;
  /** The blob store and media tools (default: files under `VIDGENIE_DATA_DIR/media`, ffmpeg). */
  readonly media?: MediaServices;
  readonly now?: () => Date;
  /** Multiplies every rate limit (tests raise them). */
  readonly rateLimitScale?: number;
  /**
   * Background work (default on): embedded mode's key rotation and rewrap, and the ledger's
   * housekeeping (expired holds, plan renewals). Tests that move the clock turn it off.
   */
  readonly background?: boolean;
  /** Whether this process executes runs (default: `VIDGENIE_RUN_WORKER`). */
  readonly work?: boolean;
  /**
   * Distributed mode: whether this process hears the runs' and users' events stored by other
   * machines, for event streams it serves (default true). `vidgenie worker` without `--port`
   * serves none and turns it off: every event batch stored elsewhere would otherwise wake it.
   */
  readonly relayEvents?: boolean;
}

/** The server's services, and how to close what they opened. */
export interface Services extends AppServices {
  readonly database: Database;
  /** Where the vault's keys came from, their age and any start-up warnings. */
  readonly keyRing: ResolvedKeyRing;
  /**
   * Stops the runs (waiting up to `graceMs`, default 30 s, before giving their leases up), the
   * queue and event connections, the background work, and the database if the services opened it.
   */
  close(options?: { readonly graceMs?: number }): Promise<void>;
}

/**
 * Builds everything the server needs from its configuration: opens the database (PGlite under
 * `VIDGENIE_DATA_DIR`, or PostgreSQL from `DATABASE_URL`) and migrates it, loads the vault's key
 * ring, and creates the ledger, the provider registry and the rate limiters.
 *
 * @example
 * ```ts
 * import { createServices, loadConfig } from '@vidgenie/server';
 * const services = await createServices(loadConfig({ VIDGENIE_DATA_DIR: './.vidgenie-example' }));
 * await services.close();
 * ```
 */
export async function createServices(
  config: ServerConfig,
  options: CreateServicesOptions = {},
): Promise<Services> {
  const log = options.log ?? createLogger({ level: config.LOG_LEVEL });
  const now = options.now ?? (() => new Date());
  if (config.VIDGENIE_FFMPEG_CONCURRENCY !== undefined)
    setFfmpegConcurrency(config.VIDGENIE_FFMPEG_CONCURRENCY);
  if (config.VIDGENIE_FFMPEG_NICE !== undefined) setFfmpegNiceness(config.VIDGENIE_FFMPEG_NICE);
  const ownsDatabase = options.database === undefined;
  const database = options.database ?? (await openDatabase(databaseOptions(config)));
  /** Connections of their own for running runs' writes (PostgreSQL, a process that executes runs). */
  let runWriters: Database[] = [];
  const closeRunWriters = async () => {
    for (const writer of runWriters) await writer.close();
  };
  try {
    if (ownsDatabase) await migrateToLatest(database.db);
    if (database.kind === 'postgres') {
      const warning = await autovacuumWarning(database.db);
      if (warning !== undefined) log.warn(warning);
    }
    const keyRing = await resolveKeyRing(config, { now: now() });
    for (const warning of keyRing.warnings) log.warn({ keySource: keyRing.source }, warning);
    const providers = options.providers ?? serverProviders(config);
    const vault = createProviderKeyVault({
      db: database.db,
      ring: keyRing.ring,
      providers,
      now,
      rotationDays: config.VIDGENIE_KEY_ROTATION_DAYS,
    });
    const ledger = createCreditLedger({
      db: database.db,
      now,
      dailyCreditCap: config.VIDGENIE_DAILY_CREDIT_CAP,
    });
    // Embedded mode rotates its own key file when due and rewraps rows in the background; with
    // configured keys, `vidgenie keys rotate` does it and start-up only warns.
    const stopRewrap =
      keyRing.source === 'file' && options.background !== false
        ? startBackgroundRewrap({
            vault,
            intervalMs: 6 * 3600_000,
            log,
            keyFile: { dataDir: config.VIDGENIE_DATA_DIR, rotationDays: config.VIDGENIE_KEY_ROTATION_DAYS },
            now,
          })
        : undefined;
    const stopMaintenance =
      options.background === false ? undefined : startLedgerMaintenance({ ledger, log });
    // Idempotency keys are kept 24 h (Stripe's rule); an hourly pass deletes older ones.
    const pruneTimer =
      options.background === false
        ? undefined
        : setInterval(() => {
            pruneIdempotencyKeys(database.db, now()).catch((error: unknown) =>
              log.error({ err: error }, 'pruning idempotency keys failed; retrying in an hour'),
            );
          }, 3_600_000);
    pruneTimer?.unref();
    // Files under VIDGENIE_DATA_DIR/media, or S3 with S3_BUCKET.
    const blobStore = options.media === undefined ? createBlobStore(config) : undefined;
    const media = options.media ?? { blobs: blobStore!.blobs, media: createFfmpegMediaTools() };
    // With S3, downloads redirect to presigned URLs (the bucket or CDN serves the bytes) unless
    // VIDGENIE_MEDIA_DELIVERY=proxy; the filesystem store can only stream.
    const delivery =
      config.VIDGENIE_MEDIA_DELIVERY ?? (blobStore?.presign === undefined ? 'proxy' : 'redirect');
    if (delivery === 'redirect' && blobStore?.presign === undefined) {
      throw new ConfigError([
        'VIDGENIE_MEDIA_DELIVERY: redirect needs S3_BUCKET (files on disk cannot be presigned)',
      ]);
    }
    const mediaRedirects =
      delivery === 'redirect' && blobStore?.presign !== undefined
        ? await createMediaRedirects({
            presign: blobStore.presign,
            ...(config.VIDGENIE_CDN_BASE_URL === undefined
              ? {}
              : { cdnBaseUrl: config.VIDGENIE_CDN_BASE_URL }),
          })
        : undefined;
    // With DATABASE_URL, runs go through pg-boss to the workers of every machine.
    const dispatch =
      config.DATABASE_URL === undefined
        ? undefined
        : await startRunDispatch({ connectionString: config.DATABASE_URL, log });
    // The hourly media cleanup: expired contents (VIDGENIE_MEDIA_RETENTION_DAYS) and the media of
    // failed or cancelled runs past VIDGENIE_ORPHAN_MEDIA_HOURS. Embedded: a timer. Distributed: a
    // pg-boss schedule, run by one worker a tick.
    const stopCleanup =
      options.background === false
        ? undefined
        : await startMediaCleanup({
            task: async () => {
              const report = await runMediaCleanup({
                db: database.db,
                blobs: media.blobs,
                now: now(),
                retentionDays: config.VIDGENIE_MEDIA_RETENTION_DAYS,
                orphanHours: config.VIDGENIE_ORPHAN_MEDIA_HOURS,
                log,
              });
              if ((report.retention?.contents ?? 0) > 0 || report.orphans.blobsDeleted > 0) {
                log.info(report, 'media cleanup deleted expired contents or orphan media');
              }
            },
            dispatch,
            work: options.work ?? config.VIDGENIE_RUN_WORKER,
            log,
          });
    // Runs' calls with one provider key share its limits: N at once per process, and a back-off
    // after a 429 that every run respects (on every machine with PostgreSQL: the SQL store).
    const keyConcurrency = config.VIDGENIE_PROVIDER_KEY_CONCURRENCY;
    const sharedBackoffs =
      database.kind === 'postgres' ? createSqlKeyBackoffStore({ db: database.db }) : undefined;
    const runProviders = limitProviderKeys(providers, {
      store: sharedBackoffs ?? createMemoryKeyBackoffStore(),
      log,
      ...(keyConcurrency === undefined ? {} : { concurrency: parseProviderKeyConcurrency(keyConcurrency) }),
    });
    const userEvents = createUserEventHub(dispatch === undefined ? {} : { db: database.db });
    const work = options.work ?? config.VIDGENIE_RUN_WORKER;
    // On PostgreSQL, running runs' writes have connections of their own, so they never queue
    // behind requests for the shared pool: node checkpoints and the captures made with them (a
    // group commit), and events (stored in batches, one statement at a time).
    const writerOptions = databaseOptions(config);
    if (writerOptions.kind === 'postgres' && work) {
      runWriters = [];
      for (let i = 0; i < 2; i++)
        runWriters.push(await openDatabase({ ...writerOptions, maxConnections: 1 }));
    }
    const [nodeSavesWriter, eventsWriter] = runWriters;
    const runs = createRunExecutor({
      db: database.db,
      ...(nodeSavesWriter === undefined ? {} : { nodeSavesDb: nodeSavesWriter.db }),
      ...(eventsWriter === undefined ? {} : { eventsDb: eventsWriter.db }),
      ledger,
      vault,
      providers: runProviders,
      log,
      dataDir: config.VIDGENIE_DATA_DIR,
      media,
      now,
      onRunEnded: [
        (ended) => recordContent({ db: database.db, providers, now }, ended),
        (ended) =>
          queueRunOrphans(
            { db: database.db, now, graceHours: config.VIDGENIE_ORPHAN_MEDIA_HOURS, blobs: media.blobs },
            ended,
          ),
        async ({ runId, userId, status }) => {
          await userEvents.publish(
            userId,
            { type: 'run.finished', runId, status },
            { type: 'credits.changed' },
          );
        },
      ],
      maxRuns: config.VIDGENIE_WORKER_CONCURRENCY,
      leaseTtlMs: config.VIDGENIE_LEASE_SECONDS * 1000,
      work,
      ...(dispatch === undefined ? {} : { dispatch }),
    });
    // Distributed mode: events and cancels reach the other machines through LISTEN/NOTIFY.
    const bridge =
      config.DATABASE_URL === undefined
        ? undefined
        : await startPgEventBridge({
            connectionString: config.DATABASE_URL,
            db: database.db,
            bus: runs.events,
            log,
            onUserEvent: (userId, event) => userEvents.deliver(userId, event),
            isLocal: (runId) => runs.isExecuting(runId),
            onDispatch: () => runs.pollQueue(),
            ...(options.relayEvents === false ? { relayEvents: false } : {}),
            // Back-offs struck or cleared on other machines are heard at once (see the SQL store).
            ...(sharedBackoffs === undefined
              ? {}
              : {
                  onKeyBackoff: (keyHash: string) => sharedBackoffs.heard(keyHash),
                  onListening: (listening: boolean) => sharedBackoffs.listening(listening),
                }),
            onCancel: (runId) => {
              runs
                .applyRemoteCancel(runId)
                .catch((error: unknown) => log.warn({ err: error, runId }, 'remote cancel failed'));
            },
          });
    // Metrics and analytics hear every stored run event (the run's row is read once per run).
    const metrics = createMetrics({
      db: database.db,
      vault,
      now,
      log,
      ...(database.pool === undefined ? {} : { pool: database.pool }),
    });
    const analytics = runAnalyticsListener({ db: database.db, log });
    const facts = tapRunFacts({
      bus: runs.events,
      db: database.db,
      providers,
      log,
      workerId: config.DATABASE_URL === undefined ? undefined : runs.workerId,
      // The lease's statement read the row of each run executing here: no second read.
      localRun: (runId) => {
        const run = runs.leasedRun(runId);
        return run === undefined
          ? undefined
          : {
              userId: run.userId,
              graph: run.graph,
              estimatedCost: run.estimatedCost,
              parentRunId: run.parentRunId,
              createdAt: run.createdAt,
              startedAt: run.startedAt,
              leaseOwner: runs.workerId,
            };
      },
      listeners: [metrics.observe, analytics],
    });
    let closing = false;
    // Runs a previous process left unfinished continue from their checkpoints.
    if (options.background !== false) await runs.resumeUnfinished();
    return {
      db: database.db,
      database,
      keyRing,
      config,
      log,
      vault,
      ledger,
      providers,
      media,
      ...(mediaRedirects === undefined ? {} : { mediaRedirects }),
      limits: createRateLimits({ scale: options.rateLimitScale ?? 1 }),
      findSession: createSessionFinder(database.db),
      runs,
      userEvents,
      now,
      metrics,
      isClosing: () => closing,
      close: async (closeOptions: { readonly graceMs?: number } = {}) => {
        closing = true;
        await runs.close(closeOptions);
        await closeRunWriters();
        await facts.stop();
        await analytics.flush();
        await bridge?.stop();
        await dispatch?.stop();
        await stopRewrap?.();
        await stopMaintenance?.();
        if (pruneTimer !== undefined) clearInterval(pruneTimer);
        stopCleanup?.();
        await blobStore?.dispose();
        if (ownsDatabase) await database.close();
      },
    };
  } catch (error) {
    await closeRunWriters();
    if (ownsDatabase) await database.close();
    throw error;
  }
}

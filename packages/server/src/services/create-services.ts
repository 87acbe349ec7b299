import { join } from 'node:path';
import {
  createFfmpegMediaTools,
  createFsBlobStore,
  type MediaServices,
  type ProviderRegistry,
} from '@vidgenie/nodes';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config/server-config.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { type Database, type DatabaseOptions, openDatabase } from '../db/open-database.ts';
import type { AppServices } from '../http/app-env.ts';
import { createRateLimits } from '../http/rate-limits.ts';
import { createCreditLedger } from '../ledger/credit-ledger.ts';
import { startLedgerMaintenance } from '../ledger/start-ledger-maintenance.ts';
import { createLogger } from '../log/create-logger.ts';
import { serverProviders } from '../providers/server-providers.ts';
import { pruneIdempotencyKeys } from '../runs/idempotency-keys.ts';
import { createRunExecutor } from '../runs/run-executor.ts';
import { createProviderKeyVault } from '../vault/provider-key-vault.ts';
import { type ResolvedKeyRing, resolveKeyRing } from '../vault/resolve-key-ring.ts';
import { startBackgroundRewrap } from '../vault/start-background-rewrap.ts';

/** Where the configuration puts the data: PostgreSQL from `DATABASE_URL`, else PGlite under `VIDGENIE_DATA_DIR/pglite`. */
export function databaseOptions(
  config: Pick<ServerConfig, 'DATABASE_URL' | 'VIDGENIE_DATA_DIR'>,
): DatabaseOptions {
  return config.DATABASE_URL === undefined
    ? { kind: 'pglite', dataDir: join(config.VIDGENIE_DATA_DIR, 'pglite') }
    : { kind: 'postgres', url: config.DATABASE_URL };
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
}

/** The server's services, and how to close what they opened. */
export interface Services extends AppServices {
  readonly database: Database;
  /** Where the vault's keys came from, their age and any start-up warnings. */
  readonly keyRing: ResolvedKeyRing;
  /** Closes the database if the services opened it. */
  close(): Promise<void>;
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
  const ownsDatabase = options.database === undefined;
  const database = options.database ?? (await openDatabase(databaseOptions(config)));
  try {
    if (ownsDatabase) await migrateToLatest(database.db);
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
    const ledger = createCreditLedger({ db: database.db, now });
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
    const media = options.media ?? {
      blobs: createFsBlobStore({ root: join(config.VIDGENIE_DATA_DIR, 'media') }),
      media: createFfmpegMediaTools(),
    };
    const runs = createRunExecutor({
      db: database.db,
      ledger,
      vault,
      providers,
      log,
      dataDir: config.VIDGENIE_DATA_DIR,
      media,
      now,
      onRunEnded: [],
    });
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
      limits: createRateLimits({ scale: options.rateLimitScale ?? 1 }),
      runs,
      now,
      close: async () => {
        await runs.close();
        await stopRewrap?.();
        await stopMaintenance?.();
        if (pruneTimer !== undefined) clearInterval(pruneTimer);
        if (ownsDatabase) await database.close();
      },
    };
  } catch (error) {
    if (ownsDatabase) await database.close();
    throw error;
  }
}

import type { ProviderKeyVault } from './provider-key-vault.ts';
import { loadOrCreateKeyFile } from './vault-key-file.ts';

/** Where background rewrap writes (a pino logger fits). */
export interface VaultLog {
  info(details: Record<string, unknown>, message: string): void;
  warn(details: Record<string, unknown>, message: string): void;
  error(details: Record<string, unknown>, message: string): void;
}

/** Options of {@link startBackgroundRewrap}. */
export interface BackgroundRewrapOptions {
  readonly vault: ProviderKeyVault;
  /** Time between passes, in ms. */
  readonly intervalMs: number;
  readonly log: VaultLog;
  /** Rows per batch (default 100). */
  readonly batchSize?: number;
  /**
   * Embedded mode: the key file to rotate. Each pass first adds a key version when the active one
   * is `rotationDays` old, and hands the new ring to the vault.
   */
  readonly keyFile?: { readonly dataDir: string; readonly rotationDays: number };
  /** The clock (default `() => new Date()`). */
  readonly now?: () => Date;
}

/**
 * Runs a pass at once, then every `intervalMs`: rotates the key file when due (embedded mode),
 * then rewraps rows still sealed with older keys. Passes never overlap; failures are logged and
 * retried at the next pass. Returns `stop()`, which cancels the timer, stops the pass in progress
 * after its current batch and resolves once it has.
 *
 * @example
 * ```ts
 * import { createLogger, startBackgroundRewrap, type ProviderKeyVault } from '@vidgenie/server';
 * declare const vault: ProviderKeyVault;
 * const stop = startBackgroundRewrap({ vault, intervalMs: 3_600_000, log: createLogger({ level: 'info' }) });
 * await stop();
 * ```
 */
export function startBackgroundRewrap(options: BackgroundRewrapOptions): () => Promise<void> {
  const { vault, log } = options;
  const now = options.now ?? (() => new Date());
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let lastFailed = 0;

  const pass = async () => {
    if (options.keyFile !== undefined) {
      const file = await loadOrCreateKeyFile(options.keyFile.dataDir, {
        now: now(),
        rotationDays: options.keyFile.rotationDays,
      });
      if (file.ring.active.id !== vault.ring.active.id) {
        vault.useKeyRing(file.ring);
        log.info({ keyId: file.ring.active.id }, 'vault key rotated: rewrapping stored keys');
      }
    }
    const report = await vault.rewrap({
      ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
      signal: controller.signal,
    });
    if (report.rewrapped > 0) {
      log.info(
        { keyId: report.activeKeyId, rewrapped: report.rewrapped, skipped: report.skipped },
        'vault keys rewrapped',
      );
    }
    if (report.failed > 0 && report.failed !== lastFailed) {
      log.warn(
        { keyId: report.activeKeyId, failed: report.failed, remainingByKeyId: report.remainingByKeyId },
        'some stored keys could not be decrypted for rewrap',
      );
    }
    lastFailed = report.failed;
  };

  const schedule = (delay: number) => {
    timer = setTimeout(() => {
      running = pass()
        .catch((error: unknown) => log.error({ err: error }, 'vault background rewrap failed'))
        .finally(() => {
          if (!controller.signal.aborted) schedule(options.intervalMs);
        });
    }, delay);
    timer.unref();
  };
  schedule(0);

  return async () => {
    controller.abort();
    clearTimeout(timer);
    await running;
  };
}

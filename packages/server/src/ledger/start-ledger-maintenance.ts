import type { Logger } from 'pino';
import type { CreditLedger } from './credit-ledger.ts';

/** Options of {@link startLedgerMaintenance}. */
export interface LedgerMaintenanceOptions {
  readonly ledger: CreditLedger;
  readonly log: Pick<Logger, 'info' | 'error'>;
  /** Time between passes, in ms (default one minute). */
  readonly intervalMs?: number;
}

/**
 * Runs the ledger's housekeeping at once and then every `intervalMs`: expires the holds of runs
 * that died (their credits return to the account) and renews the plans whose period ended. Both
 * are safe with several servers doing the same. Passes never overlap; a failed pass is logged and
 * retried at the next one. Returns `stop()`, which waits for a pass in progress.
 *
 * @example
 * ```ts
 * import { createLogger, type CreditLedger, startLedgerMaintenance } from '@vidgenie/server';
 * declare const ledger: CreditLedger;
 * const stop = startLedgerMaintenance({ ledger, log: createLogger({ level: 'info' }) });
 * await stop();
 * ```
 */
export function startLedgerMaintenance(options: LedgerMaintenanceOptions): () => Promise<void> {
  const { ledger, log } = options;
  let running: Promise<void> | undefined;
  let stopped = false;
  const pass = async () => {
    try {
      const swept = await ledger.sweepExpiredHolds();
      if (swept.expired > 0) log.info({ ...swept }, 'expired credit holds released');
      const renewed = await ledger.renewDue();
      if (renewed.renewed > 0) log.info({ ...renewed }, 'credit plans renewed');
    } catch (error) {
      log.error({ err: error }, 'ledger maintenance failed; retrying at the next pass');
    }
  };
  const tick = () => {
    if (stopped || running !== undefined) return;
    running = pass().finally(() => {
      running = undefined;
    });
  };
  tick();
  const timer = setInterval(tick, options.intervalMs ?? 60_000);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}

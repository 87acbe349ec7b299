import { join } from 'node:path';
import {
  type BillingHooks,
  createEngine,
  type EngineError,
  type NodeRegistry,
  NonRetryableError,
  type RunHandle,
  type RunOutcome,
  toEngineError,
} from '@vidgenie/engine';
import {
  createFfmpegMediaTools,
  createFsBlobStore,
  createShortVideoRegistry,
  type MediaServices,
  type ProviderRegistry,
} from '@vidgenie/nodes';
import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import type { DB, RunRowStatus } from '../db/schema.ts';
import { ApiError } from '../errors/api-error.ts';
import type { CreditLedger } from '../ledger/credit-ledger.ts';
import { createLedgerBillingHooks } from '../ledger/ledger-billing-hooks.ts';
import type { ProviderKeyVault } from '../vault/provider-key-vault.ts';
import { createRunEventBus, type RunEventBus } from './run-event-bus.ts';
import { createRunEventWriter } from './run-event-writer.ts';
import { createRunQueue, type RunQueueJob } from './run-queue.ts';
import { createSqlCheckpointStore } from './sql-checkpoint-store.ts';
import { isTerminalRunEvent } from './terminal-run-events.ts';

/** The final statuses of a run. */
export type Finish = Extract<RunRowStatus, 'completed' | 'failed' | 'cancelled'>;

/** How long a run's credit hold lives by default before the sweeper presumes the run dead: 6 hours. */
export const DEFAULT_RUN_HOLD_TTL_MS = 6 * 3_600_000;

/** What {@link RunExecutorOptions.onRunEnded} listeners hear once a run's row has its final status. */
export interface RunEnded {
  readonly runId: string;
  readonly userId: string;
  readonly status: Finish;
  /** The engine's outcome: outputs (media references), cost, and the error of a failed run. */
  readonly outcome: RunOutcome;
}

/** Options of {@link createRunExecutor}. */
export interface RunExecutorOptions {
  readonly db: Kysely<DB>;
  readonly ledger: CreditLedger;
  readonly vault: ProviderKeyVault;
  readonly providers: ProviderRegistry;
  readonly log: Logger;
  /** Media goes to `<dataDir>/media` (unless `media` is given). */
  readonly dataDir: string;
  /** The clock for the rows' timestamps (default: the system clock). */
  readonly now?: () => Date;
  /** Runs of one user at once; more wait in the queue (PRD: 5). */
  readonly maxRunsPerUser?: number;
  /** Runs at once in this process, all users together (default 20). */
  readonly maxRuns?: number;
  /** Lifetime of a run's credit hold (default {@link DEFAULT_RUN_HOLD_TTL_MS}). */
  readonly holdTtlMs?: number;
  /** The nodes' blob store and media tools (default: files under `<dataDir>/media`, ffmpeg). */
  readonly media?: MediaServices;
  /**
   * Called after a run's final status is stored (content records, analytics). A listener that
   * throws is logged; the run stays as it ended.
   */
  readonly onRunEnded?: readonly ((ended: RunEnded) => Promise<void> | void)[];
}

/** Runs workflow runs in this process, durably: see {@link createRunExecutor}. */
export interface RunExecutor {
  /** The short-video node registry bound to the server's providers (what graphs validate against). */
  readonly registry: NodeRegistry;
  /** Stored events of every run, published as they commit (the SSE route follows them). */
  readonly events: RunEventBus;
  /** The lifetime to give a run's credit hold. */
  readonly holdTtlMs: number;
  /** Queues a run whose row (status `queued`) and hold exist. Ignored after `close`. */
  submit(runId: string): Promise<void>;
  /**
   * Cancels a run: a waiting one ends `cancelled` at once (its hold released); a running one is
   * cancelled through the engine and ends within a tick. Returns the run's status after the
   * request (`running` while the engine winds it down), or undefined for an unknown run.
   */
  cancel(runId: string, reason?: string): Promise<RunRowStatus | undefined>;
  /** 1 for the next run to start among those waiting; undefined when not waiting here. */
  queuePosition(runId: string): number | undefined;
  /** Queues every run left `queued` or `running` (by a stopped process); returns how many. */
  resumeUnfinished(): Promise<number>;
  /**
   * Stops taking runs and waits up to `graceMs` (default 30 s) for running ones. Runs still going
   * stay `running` in the database and resume at the next start.
   */
  close(options?: { readonly graceMs?: number }): Promise<void>;
}

/**
 * The in-process run executor (embedded mode). Each run goes through one shared engine with:
 * the SQL checkpoint store (a run survives a restart and resumes from its checkpoints), billing
 * hooks on the credits ledger (the hold placed when the run was accepted is found again by its run
 * id, each node is captured once, the rest released), a secrets resolver that decrypts the owner's
 * keys from the vault just in time (audited with the run id), and a filesystem blob store.
 *
 * Every engine event is stored in `run_events` under its `seq` and then published on `events`;
 * the run's row follows its status (`queued` → `running` → `completed` | `failed` | `cancelled`).
 * At most `maxRunsPerUser` runs of a user and `maxRuns` in all run at once; the rest wait in FIFO
 * order. A run with no terminal engine event (it failed before starting) gets a `run.failed` or
 * `run.cancelled` event of its own, so every stream ends.
 *
 * @example
 * ```ts
 * import { createRunExecutor, createServices, loadConfig } from '@vidgenie/server';
 * const services = await createServices(loadConfig({ VIDGENIE_DATA_DIR: './.vidgenie-example' }));
 * const executor = createRunExecutor({ ...services, dataDir: services.config.VIDGENIE_DATA_DIR });
 * console.log(`resumed ${await executor.resumeUnfinished()} runs`);
 * await executor.close();
 * await services.close();
 * ```
 */
export function createRunExecutor(options: RunExecutorOptions): RunExecutor {
  const { db, ledger, vault, providers, log } = options;
  const now = options.now ?? (() => new Date());
  const holdTtlMs = options.holdTtlMs ?? DEFAULT_RUN_HOLD_TTL_MS;
  const registry = createShortVideoRegistry({ providers });
  const media = options.media ?? {
    blobs: createFsBlobStore({ root: join(options.dataDir, 'media') }),
    media: createFfmpegMediaTools(),
  };
  const bus = createRunEventBus();
  /** The owner of each run this process is executing: billing and secrets are per user. */
  const owners = new Map<string, string>();
  const handles = new Map<string, RunHandle>();
  /** Cancels asked for while a run was between the queue and the engine. */
  const cancelRequests = new Map<string, string>();
  const hooksByUser = new Map<string, BillingHooks>();
  let closed = false;

  const hooksFor = (runId: string): BillingHooks => {
    const userId = owners.get(runId);
    if (userId === undefined) throw new NonRetryableError(`Run ${runId} is not running on this server.`);
    let hooks = hooksByUser.get(userId);
    if (hooks === undefined) {
      hooks = createLedgerBillingHooks({ ledger, userId, holdTtlMs });
      hooksByUser.set(userId, hooks);
    }
    return hooks;
  };

  const engine = createEngine({
    registry,
    store: createSqlCheckpointStore({ db }),
    services: media,
    billing: {
      reserve: (args) => hooksFor(args.runId).reserve(args),
      capture: (args) => hooksFor(args.runId).capture(args),
      release: (args) => hooksFor(args.runId).release(args),
    },
    secrets: async ({ runId, name }) => {
      const userId = owners.get(runId);
      if (userId === undefined) return undefined;
      try {
        return await vault.decryptForUse({ userId, providerId: name, purpose: 'run', runId });
      } catch (error) {
        // No saved key: the node fails with "add your … key in Settings".
        if (error instanceof ApiError && error.code === 'NOT_FOUND') return undefined;
        throw error;
      }
    },
  });

  const notifyEnded = async (ended: RunEnded) => {
    for (const listener of options.onRunEnded ?? []) {
      try {
        await listener(ended);
      } catch (error) {
        log.error({ err: error, runId: ended.runId }, 'a run-ended listener failed');
      }
    }
  };

  const lastStoredEvent = async (runId: string) =>
    db
      .selectFrom('run_events')
      .select(['seq', 'type'])
      .where('run_id', '=', runId)
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();

  /** Writes the final status (only over an unfinished one) and tells followers. */
  const finishRow = async (runId: string, status: Finish, error?: EngineError) => {
    await db
      .updateTable('runs')
      .set({
        status,
        finished_at: now(),
        error: error === undefined ? null : JSON.stringify(error.toJSON()),
      })
      .where('id', '=', runId)
      .where('status', 'in', ['queued', 'running'])
      .execute();
    bus.end(runId);
  };

  /** The terminal event a run gets when the engine emitted none (it failed or was cancelled before starting). */
  const terminalEvent = (runId: string, seq: number, outcome: RunOutcome) => {
    const base = { runId, seq, at: now().getTime() };
    if (outcome.status === 'failed')
      return {
        ...base,
        type: 'run.failed',
        error: outcome.error.toJSON(),
        ...(outcome.nodeId === undefined ? {} : { nodeId: outcome.nodeId }),
      };
    if (outcome.status === 'cancelled') return { ...base, type: 'run.cancelled', reason: outcome.reason };
    return { ...base, type: 'run.completed', durationMs: 0, captured: outcome.cost.captured, saved: 0 };
  };

  const execute = async ({ runId, userId }: RunQueueJob): Promise<void> => {
    const row = await db
      .selectFrom('runs')
      .select(['status', 'graph', 'hold_id', 'parent_run_id', 'rerun_from'])
      .where('id', '=', runId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (row === undefined || (row.status !== 'queued' && row.status !== 'running')) return;
    await db
      .updateTable('runs')
      .set({ status: 'running', started_at: sql<Date>`coalesce(started_at, ${now()})` })
      .where('id', '=', runId)
      .where('status', 'in', ['queued', 'running'])
      .execute();
    const last = await lastStoredEvent(runId);
    const lastSeq = last?.seq ?? 0;
    const writer = createRunEventWriter({ db, bus, runId, log, lastSeq });
    const onEvent = (event: { readonly type: string; readonly seq: number }) => writer.push(event);
    owners.set(runId, userId);
    let outcome: RunOutcome;
    try {
      const snapshot = await engine.store.loadRun({ runId });
      // A rerun reuses its parent's outputs upstream of `rerun_from` (the engine plans it as the
      // route did when it held credits for the other nodes only).
      const handle =
        snapshot !== undefined
          ? engine.resume(runId, { lastSeq, onEvent })
          : row.parent_run_id !== null && row.rerun_from !== null
            ? engine.rerun(
                { runId: row.parent_run_id, from: [row.rerun_from], graph: row.graph },
                { runId, onEvent },
              )
            : engine.start(row.graph, { runId, onEvent });
      handles.set(runId, handle);
      const requested = cancelRequests.get(runId);
      if (requested !== undefined) handle.cancel(requested);
      outcome = await handle.result;
    } catch (error) {
      // An invalid stored graph (providers changed since) or an unreadable checkpoint.
      const engineError = toEngineError(error);
      outcome = {
        status: 'failed',
        runId,
        error: engineError,
        outputs: {},
        cost: { estimated: 0, reserved: 0, captured: 0, released: 0, saved: 0 },
      };
    } finally {
      handles.delete(runId);
      cancelRequests.delete(runId);
    }
    await writer.flush();
    const lastIsTerminal =
      writer.ended || (writer.lastSeq === lastSeq && isTerminalRunEvent(last?.type ?? ''));
    if (!lastIsTerminal) {
      writer.push(terminalEvent(runId, writer.lastSeq + 1, outcome));
      await writer.flush();
    }
    owners.delete(runId);
    if (outcome.status === 'failed' && outcome.error.code === 'STALE_FENCE') {
      // Another worker took the run over: its row is theirs to finish.
      log.warn({ runId }, 'run taken over by another worker');
      return;
    }
    // The hold was placed when the run was accepted; the engine releases it only if it reserved
    // (a run cancelled or failed before its reserve step did not). A second release is a no-op.
    if (row.hold_id !== null) await ledger.release({ holdId: row.hold_id });
    await finishRow(runId, outcome.status, outcome.status === 'failed' ? outcome.error : undefined);
    log.info({ runId, userId, status: outcome.status, captured: outcome.cost.captured }, 'run ended');
    await notifyEnded({ runId, userId, status: outcome.status, outcome });
  };

  const queue = createRunQueue({
    perUser: options.maxRunsPerUser ?? 5,
    global: options.maxRuns ?? 20,
    run: async (job) => {
      try {
        await execute(job);
      } catch (error) {
        // The database went away (shutdown) or a bug: the run stays unfinished and resumes later.
        log.error({ err: error, runId: job.runId }, 'run execution failed');
      }
    },
  });

  /** Ends a run that never reached the engine: releases its hold, stores its last event. */
  const cancelWaiting = async (runId: string, reason: string) => {
    const row = await db
      .selectFrom('runs')
      .select(['hold_id', 'user_id'])
      .where('id', '=', runId)
      .where('status', '=', 'queued')
      .executeTakeFirst();
    if (row === undefined) return;
    if (row.hold_id !== null) await ledger.release({ holdId: row.hold_id });
    const last = await lastStoredEvent(runId);
    const writer = createRunEventWriter({ db, bus, runId, log, lastSeq: last?.seq ?? 0 });
    writer.push({ type: 'run.cancelled', runId, seq: (last?.seq ?? 0) + 1, at: now().getTime(), reason });
    await writer.flush();
    await finishRow(runId, 'cancelled');
    const cost = { estimated: 0, reserved: 0, captured: 0, released: 0, saved: 0 };
    await notifyEnded({
      runId,
      userId: row.user_id,
      status: 'cancelled',
      outcome: { status: 'cancelled', runId, reason, outputs: {}, cost },
    });
  };

  const statusOf = async (runId: string) =>
    (await db.selectFrom('runs').select('status').where('id', '=', runId).executeTakeFirst())?.status;

  return Object.freeze({
    registry: registry as unknown as NodeRegistry,
    events: bus,
    holdTtlMs,
    async submit(runId: string) {
      if (closed) return;
      const row = await db.selectFrom('runs').select('user_id').where('id', '=', runId).executeTakeFirst();
      if (row !== undefined) queue.add({ runId, userId: row.user_id });
    },
    async cancel(runId: string, reason = 'Cancelled by the user.') {
      if (queue.remove(runId)) {
        await cancelWaiting(runId, reason);
        return statusOf(runId);
      }
      const handle = handles.get(runId);
      if (handle !== undefined) handle.cancel(reason);
      else if (queue.isRunning(runId)) cancelRequests.set(runId, reason);
      else {
        // Queued in the database but not in this process's queue (not resumed yet).
        const status = await statusOf(runId);
        if (status === 'queued') await cancelWaiting(runId, reason);
      }
      return statusOf(runId);
    },
    queuePosition: (runId: string) => queue.position(runId),
    async resumeUnfinished() {
      if (closed) return 0;
      const rows = await db
        .selectFrom('runs')
        .select(['id', 'user_id'])
        .where('status', 'in', ['queued', 'running'])
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      for (const row of rows) queue.add({ runId: row.id, userId: row.user_id });
      if (rows.length > 0) log.info({ runs: rows.length }, 'resuming unfinished runs');
      return rows.length;
    },
    async close(closeOptions: { readonly graceMs?: number } = {}) {
      closed = true;
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, closeOptions.graceMs ?? 30_000);
        timer.unref();
      });
      await Promise.race([queue.close(), grace]);
      clearTimeout(timer);
    },
  });
}

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  type BillingHooks,
  createEngine,
  type EngineError,
  type NodeRecord,
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
import { createUserScopedBlobStore } from '../contents/user-scoped-blob-store.ts';
import { gather } from '../db/gather.ts';
import type { DB, RunRowStatus } from '../db/schema.ts';
import { ApiError } from '../errors/api-error.ts';
import type { CreditLedger } from '../ledger/credit-ledger.ts';
import { createLedgerBillingHooks } from '../ledger/ledger-billing-hooks.ts';
import { errorCauses } from '../log/error-causes.ts';
import type { ProviderKeyVault } from '../vault/provider-key-vault.ts';
import type { LeaseFence } from './lease-fence.ts';
import type { RunDispatch } from './pg-boss-dispatch.ts';
import { RUN_CANCEL_CHANNEL, RUN_DISPATCH_CHANNEL, RUN_EVENTS_CHANNEL } from './pg-event-bridge.ts';
import { createRunEventBus, type RunEventBus } from './run-event-bus.ts';
import { createRunEventSink, type RunEventWriter } from './run-event-sink.ts';
import {
  acquireRunLeases,
  giveUpRunLease,
  type LeasedRun,
  markDispatched,
  renewRunLeases,
  sweepLapsedLeases,
} from './run-lease.ts';
import { createRunQueue, type RunQueueJob } from './run-queue.ts';
import { createSqlCheckpointStore } from './sql-checkpoint-store.ts';
import { isTerminalRunEvent } from './terminal-run-events.ts';

/**
 * How long events wait to be stored together: a node's bursts (progress, capture, completion, the
 * next start) and other runs' events become one insert, for at most this much latency.
 */
export const EVENT_BATCH_DELAY_MS = 10;

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
  /** The graph stored with the run, when the executor read it (listeners need not read it again). */
  readonly graph?: unknown;
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
  /**
   * Distributed mode: runs are sent to this pg-boss queue instead of the in-process one, taken by
   * the workers of every machine, and executed under a lease whose per-user limit holds across
   * machines. Events are announced with `NOTIFY` for other machines' followers.
   */
  readonly dispatch?: RunDispatch;
  /**
   * A database handle on a connection of its own for the runs' checkpoints (node saves and the
   * captures made with them, runs' creations and saves), written together (group commits; see the
   * SQL checkpoint store's `nodeSavesDb`). Without it they go through `db`, one statement each.
   */
  readonly nodeSavesDb?: Kysely<DB>;
  /**
   * A database handle on a connection of its own for the runs' events, stored in batches one
   * statement at a time, so that their wait for a connection never delays their delivery. Without
   * it they go through `db`.
   */
  readonly eventsDb?: Kysely<DB>;
  /** Whether this process executes runs (default true); an API-only process in distributed mode sets false. */
  readonly work?: boolean;
  /** This worker's id in the lease columns (default: host, pid and a random suffix). */
  readonly workerId?: string;
  /** How long a lease lasts without a heartbeat (default 15 s; heartbeats every third of it). */
  readonly leaseTtlMs?: number;
  /**
   * Distributed mode: how soon the worker asks the queue for runs again when it has free slots
   * (default 500 ms). While the queue answers nothing the wait doubles, up to `idlePollMs`; a
   * dispatch notification, a freed slot or a run found brings it back to this.
   */
  readonly pollMs?: number;
  /** Distributed mode: the longest wait between two looks at an empty queue (default 2 s). */
  readonly idlePollMs?: number;
  /** Distributed mode: how often lapsed leases are looked for and their runs sent again (default: half the lease, at most 5 s). */
  readonly sweepMs?: number;
}

/** Runs workflow runs in this process, durably: see {@link createRunExecutor}. */
export interface RunExecutor {
  /** The short-video node registry bound to the server's providers (what graphs validate against). */
  readonly registry: NodeRegistry;
  /** Stored events of every run, published as they commit (the SSE route follows them). */
  readonly events: RunEventBus;
  /** The lifetime to give a run's credit hold. */
  readonly holdTtlMs: number;
  /**
   * Queues a run whose row (status `queued`) and hold exist. Pass its owner's id when it is at hand
   * (it saves reading the row). Ignored after `close`.
   */
  submit(runId: string, userId?: string): Promise<void>;
  /**
   * Cancels a run: a waiting one ends `cancelled` at once (its hold released); a running one is
   * cancelled through the engine and ends within a tick. Returns the run's status after the
   * request (`running` while the engine winds it down), or undefined for an unknown run.
   */
  cancel(runId: string, reason?: string): Promise<RunRowStatus | undefined>;
  /** 1 for the next run to start among those waiting; undefined when the run is not waiting. */
  queuePosition(runId: string): Promise<number | undefined>;
  /**
   * Embedded mode: queues every run left `queued` or `running` by a stopped process. Distributed
   * mode: sends to the queue every unfinished run whose lease lapsed. Returns how many.
   */
  resumeUnfinished(): Promise<number>;
  /** Whether this process is executing the run now. */
  isExecuting(runId: string): boolean;
  /**
   * What the lease's statement read of a run executing here (its owner and row), so that others
   * in the process need not read the row again; undefined for a run not executing here.
   */
  leasedRun(runId: string): (LeasedRun & { readonly userId: string }) | undefined;
  /** Distributed mode: takes waiting runs from the queue now (a run was just sent), if there are free slots. */
  pollQueue(): void;
  /** Acts on a cancel asked on another machine for a run executing here (the cancel channel calls it). */
  applyRemoteCancel(runId: string): Promise<void>;
  /** This worker's id, as written in `runs.lease_owner`. */
  readonly workerId: string;
  /**
   * Stops taking runs and waits up to `graceMs` (default 30 s) for running ones. Runs still going
   * then give their lease up (another worker, or the next start, resumes them from their
   * checkpoints) and stop here without writing anything more.
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
  const { db, ledger, vault, providers, log, dispatch } = options;
  const now = options.now ?? (() => new Date());
  const holdTtlMs = options.holdTtlMs ?? DEFAULT_RUN_HOLD_TTL_MS;
  const leaseTtlMs = options.leaseTtlMs ?? 15_000;
  const maxRunsPerUser = options.maxRunsPerUser ?? 5;
  const maxRuns = options.maxRuns ?? 20;
  const work = options.work ?? true;
  const workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const notifyChannel = dispatch === undefined ? undefined : RUN_EVENTS_CHANNEL;
  const registry = createShortVideoRegistry({ providers });
  const media = options.media ?? {
    blobs: createFsBlobStore({ root: join(options.dataDir, 'media') }),
    media: createFfmpegMediaTools(),
  };
  const bus = createRunEventBus();
  const eventSink = createRunEventSink({
    db: options.eventsDb ?? db,
    bus,
    log,
    batchDelayMs: EVENT_BATCH_DELAY_MS,
    ...(notifyChannel === undefined ? {} : { notifyChannel }),
  });
  /** The lease each run executing here writes under; a lost lease gets epoch -1 (every write fails). */
  const fences = new Map<string, LeaseFence>();
  const handles = new Map<string, RunHandle>();
  /**
   * Each run this process is executing: its owner (billing and secrets are per user) and what
   * its lease read.
   */
  const leased = new Map<string, LeasedRun & { readonly userId: string }>();
  const ownerOf = (runId: string) => leased.get(runId)?.userId;
  /** Cancels asked for while a run was between the queue and the engine. */
  const cancelRequests = new Map<string, string>();
  const hooksByUser = new Map<string, BillingHooks>();
  /** The credit hold of each run executing here, placed when it was accepted. */
  const holds = new Map<string, string>();
  let closed = false;

  const fenceOf = (runId: string) => fences.get(runId);
  const hooksFor = (runId: string): BillingHooks => {
    const userId = ownerOf(runId);
    if (userId === undefined) throw new NonRetryableError(`Run ${runId} is not running on this server.`);
    let hooks = hooksByUser.get(userId);
    if (hooks === undefined) {
      hooks = createLedgerBillingHooks({ ledger, userId, holdTtlMs, fenceOf });
      hooksByUser.set(userId, hooks);
    }
    return hooks;
  };

  const engine = createEngine({
    registry,
    store: createSqlCheckpointStore({
      db,
      fenceOf,
      captureOnCommit: true,
      now,
      ...(options.nodeSavesDb === undefined ? {} : { nodeSavesDb: options.nodeSavesDb }),
    }),
    // Media of a run lands under its owner's prefix: `users/<userId>/runs/<runId>/…`.
    services: {
      ...media,
      blobs: createUserScopedBlobStore({ blobs: media.blobs, ownerOf }),
    },
    billing: {
      // Runs start with the hold placed when they were accepted (`reservation`), so the engine
      // reserves only when resuming a run whose checkpoint lacks it (stored before it was passed
      // at the start): it finds the hold here instead of asking the ledger to replay it.
      reserve: async (args) => {
        const holdId = holds.get(args.runId);
        return holdId === undefined ? hooksFor(args.runId).reserve(args) : { reservationId: holdId };
      },
      capture: (args) => hooksFor(args.runId).capture(args),
      release: (args) => hooksFor(args.runId).release(args),
    },
    hooks: {
      // Events carry the creator-facing message; the log says why underneath (a reset connection,
      // a connect timeout), for operators. Causes' messages only where they hold no request data.
      onNodeError: ({ runId, nodeId, nodeType, attempt, retrying, error }) => {
        log.warn(
          {
            runId,
            nodeId,
            nodeType,
            attempt,
            code: error.code,
            error: error.message,
            causes: errorCauses(error),
          },
          retrying ? 'node attempt failed; retrying' : 'node failed',
        );
      },
    },
    secrets: async ({ runId, name }) => {
      const userId = ownerOf(runId);
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

  /** Writes the final status over an unfinished one, under the lease; false when the lease was lost. */
  const finishRow = async (fence: LeaseFence, status: Finish, error?: EngineError) => {
    const result = await db
      .updateTable('runs')
      .set({
        status,
        finished_at: now(),
        error: error === undefined ? null : JSON.stringify(error.toJSON()),
        lease_owner: null,
        lease_expires_at: null,
      })
      .where('id', '=', fence.runId)
      .where('status', 'in', ['queued', 'running'])
      .where('lease_epoch', '=', fence.epoch)
      .executeTakeFirst();
    bus.end(fence.runId);
    return result.numUpdatedRows > 0n;
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

  /**
   * Keeps the leases of the runs executing here alive: one statement every third of the lease
   * renews them all. A run whose lease was lost is fenced out and stopped here; one whose cancel
   * was asked for elsewhere (and its NOTIFY missed) is cancelled.
   */
  const heartbeat = (() => {
    let beating = false;
    let timer: NodeJS.Timeout | undefined;
    const beat = async () => {
      const held = [...fences.values()].filter((fence) => fence.epoch !== -1);
      if (held.length === 0) return;
      try {
        const renewals = await renewRunLeases(db, { fences: held, owner: workerId, ttlMs: leaseTtlMs });
        for (const fence of held) {
          // A run that ended (or started again) meanwhile is not this beat's business any more.
          if (fences.get(fence.runId) !== fence) continue;
          const renewal = renewals.get(fence.runId);
          if (renewal === undefined) continue;
          if (!renewal.held) loseLease(fence.runId, 'lease lost: another worker holds the run');
          else if (renewal.cancelRequested !== null) cancelHere(fence.runId, renewal.cancelRequested);
        }
      } catch (error) {
        log.warn({ err: error, runs: held.length }, 'lease heartbeat failed');
      }
    };
    return {
      /** Starts beating with the first run held here. */
      start() {
        if (timer !== undefined) return;
        timer = setInterval(
          () => {
            if (beating) return;
            if (fences.size === 0) {
              clearInterval(timer);
              timer = undefined;
              return;
            }
            beating = true;
            void beat().finally(() => {
              beating = false;
            });
          },
          Math.max(50, Math.floor(leaseTtlMs / 3)),
        );
        timer.unref();
      },
      stop() {
        clearInterval(timer);
        timer = undefined;
      },
    };
  })();

  /**
   * Stops a run here without writing anything more (its lease is, or is about to be, someone
   * else's): every fenced write fails from now on, and the engine abandons the run.
   */
  const loseLease = (runId: string, reason: string) => {
    const fence = fences.get(runId);
    if (fence === undefined || fence.epoch === -1) return;
    fences.set(runId, { runId, epoch: -1 });
    log.warn({ runId, epoch: fence.epoch }, reason);
    // Not a cancel: the provider jobs keep running for the worker that resumes the run.
    handles.get(runId)?.abandon();
  };

  /** Cancels a run executing (or about to execute) in this process. */
  const cancelHere = (runId: string, reason: string) => {
    const handle = handles.get(runId);
    if (handle !== undefined) handle.cancel(reason);
    else cancelRequests.set(runId, reason);
  };

  // Runs sent to the queue are marked as sent (so the lease sweep leaves them alone a while), and
  // idle workers everywhere woken to take them (else they find them at their next poll), in one
  // statement for the runs sent together.
  const markSent = gather({
    send: async (runIds: readonly string[]) => {
      await sql`with sent as (update runs set dispatched_at = now() where id = any(${[...runIds]}::text[]) returning id)
                select pg_notify(${RUN_DISPATCH_CHANNEL}, '') where exists (select 1 from sent)`.execute(db);
      return runIds.map(() => undefined);
    },
  });

  // Leases taken together: a burst of runs starting at once makes a few statements, not one each.
  const acquireLease = gather({
    send: (requests: Parameters<typeof acquireRunLeases>[1]) => acquireRunLeases(db, requests),
  });

  const execute = async (job: RunQueueJob): Promise<void> => {
    const { runId } = job;
    const lease = await acquireLease({
      runId,
      userId: job.userId,
      owner: workerId,
      ttlMs: leaseTtlMs,
      now: now(),
      ...(dispatch === undefined ? {} : { perUserLimit: maxRunsPerUser }),
    });
    if (lease.kind === 'user-limit') {
      // The owner has enough runs going on other workers: back to the queue for a moment.
      await dispatch?.send(job, { delaySeconds: 2 });
      await markDispatched(db, runId);
      return;
    }
    if (lease.kind !== 'acquired') return;
    const { fence, userId } = lease;
    fences.set(runId, fence);
    leased.set(runId, { ...lease.run, userId });
    if (lease.cancelRequested !== null) cancelRequests.set(runId, lease.cancelRequested);
    heartbeat.start();
    try {
      await executeLeased(fence, userId, lease.run);
    } finally {
      fences.delete(runId);
      leased.delete(runId);
    }
  };

  /**
   * A worker that died after a checkpoint committed but before that step's events were stored
   * leaves a gap: the checkpoint's `last_seq` is past the last stored event, and the resumed engine
   * numbers on from the checkpoint. Each lost `seq` is stored again before resuming: as the
   * `node.completed` (or `node.failed`) event rebuilt from the node checkpoint saved under it, or
   * else as a `run.recovered` event saying an event was lost. Streams stay gap-free, and a
   * follower still learns which nodes finished.
   */
  const fillLostEvents = async (
    runId: string,
    writer: RunEventWriter,
    graph: Readonly<Record<string, unknown>>,
  ) => {
    const checkpoint = await db
      .selectFrom('run_checkpoints')
      .select('last_seq')
      .where('run_id', '=', runId)
      .executeTakeFirst();
    const from = writer.lastSeq + 1;
    const to = checkpoint?.last_seq ?? 0;
    if (to < from) return;
    const saved = await db
      .selectFrom('node_checkpoints')
      .select(['seq', 'record'])
      .where('run_id', '=', runId)
      .where('seq', '>=', from)
      .where('seq', '<=', to)
      .execute();
    const nodes = (graph.nodes ?? []) as readonly { readonly id: string; readonly type: string }[];
    const at = now().getTime();
    for (let seq = from; seq <= to; seq++) {
      const node = saved.find((candidate) => candidate.seq === seq)?.record as NodeRecord | undefined;
      const nodeType = nodes.find((candidate) => candidate.id === node?.nodeId)?.type ?? 'unknown';
      if (node?.status === 'completed') {
        writer.push({
          type: 'node.completed',
          runId,
          seq,
          at,
          nodeId: node.nodeId,
          nodeType,
          output: node.output,
          durationMs: Math.max(0, (node.endedAt ?? at) - (node.startedAt ?? at)),
          cost: node.cost,
          attempt: node.attempt,
          recovered: true,
        });
      } else if (node?.status === 'failed' && node.error !== undefined) {
        writer.push({
          type: 'node.failed',
          runId,
          seq,
          at,
          nodeId: node.nodeId,
          nodeType,
          attempt: node.attempt,
          error: node.error,
          recovered: true,
        });
      } else {
        writer.push({
          type: 'run.recovered',
          runId,
          seq,
          at,
          reason: 'An event was lost when a worker stopped; the run continues from its checkpoint.',
        });
      }
    }
    await writer.flush();
    log.info({ runId, from, to }, 'stored events lost by a stopped worker again');
  };

  /** Executes a run under its lease; `row` is what the lease's statement read of it. */
  const executeLeased = async (fence: LeaseFence, userId: string, row: LeasedRun): Promise<void> => {
    const { runId } = fence;
    const { lastSeq } = row;
    const writer = eventSink.writer({ runId, lastSeq, fence });
    /** Whether the engine released the hold (then the release below has nothing to do). */
    let released = false;
    const onEvent = (event: { readonly type: string; readonly seq: number }) => {
      if (event.type === 'cost.released') released = true;
      if (fences.get(runId)?.epoch !== -1) writer.push(event);
    };
    if (row.holdId !== null) holds.set(runId, row.holdId);
    let outcome: RunOutcome;
    try {
      if (row.checkpointed) await fillLostEvents(runId, writer, row.graph);
      // The hold placed when the run was accepted goes into the run's first checkpoint (its
      // amount is the engine's estimate, which the route held). A rerun reuses its parent's
      // outputs upstream of `rerun_from` (the engine plans it as the route did when it held
      // credits for the other nodes only).
      const placed = row.holdId === null ? {} : { reservation: { id: row.holdId } };
      const handle = row.checkpointed
        ? engine.resume(runId, { lastSeq: writer.lastSeq, onEvent })
        : row.parentRunId !== null && row.rerunFrom !== null
          ? engine.rerun(
              { runId: row.parentRunId, from: [row.rerunFrom], graph: row.graph },
              { runId, onEvent, ...placed },
            )
          : engine.start(row.graph, { runId, onEvent, ...placed });
      handles.set(runId, handle);
      if (fences.get(runId)?.epoch === -1) handle.abandon();
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
      holds.delete(runId);
      cancelRequests.delete(runId);
    }
    await writer.flush();
    if (outcome.status === 'failed' && outcome.error.code === 'CHECKPOINT_VERSION') {
      // Checkpoints in a newer format (a rolling upgrade): leave the run to a newer worker.
      log.warn({ runId }, 'run checkpointed by a newer version; leaving it to a newer worker');
      await giveUpRunLease(db, fence);
      return;
    }
    const lost =
      fences.get(runId)?.epoch === -1 ||
      (outcome.status === 'failed' && outcome.error.code === 'STALE_FENCE');
    if (lost) {
      // Another worker took the run over (or this process gave it up): its row is theirs to finish.
      log.warn({ runId, status: outcome.status }, 'run left to another worker');
      return;
    }
    const lastIsTerminal =
      writer.ended || (writer.lastSeq === lastSeq && isTerminalRunEvent(row.lastType ?? ''));
    if (!lastIsTerminal) {
      writer.push(terminalEvent(runId, writer.lastSeq + 1, outcome));
      await writer.flush();
    }
    // The hold was placed when the run was accepted; the engine releases it only if it reserved
    // (a run cancelled or failed before its reserve step did not, nor one whose release failed).
    try {
      if (row.holdId !== null && !released) await ledger.release({ holdId: row.holdId, fence });
    } catch (error) {
      if (toEngineError(error).code === 'STALE_FENCE') {
        log.warn({ runId }, 'run taken over before it could finish here');
        return;
      }
      throw error;
    }
    const finished = await finishRow(
      fence,
      outcome.status,
      outcome.status === 'failed' ? outcome.error : undefined,
    );
    if (!finished) {
      log.warn({ runId }, 'run taken over before it could finish here');
      return;
    }
    log.info({ runId, userId, status: outcome.status, captured: outcome.cost.captured }, 'run ended');
    await notifyEnded({ runId, userId, status: outcome.status, outcome, graph: row.graph });
  };

  const queue = createRunQueue({
    perUser: maxRunsPerUser,
    global: maxRuns,
    run: async (job) => {
      try {
        await execute(job);
      } catch (error) {
        // The database went away (shutdown) or a bug: the run stays unfinished and resumes later.
        log.error({ err: error, runId: job.runId }, 'run execution failed');
      } finally {
        // Its slot is free once this settles: runs waiting in the queue come now, not at the next
        // poll (unless the last look found the queue empty and nothing was sent since).
        setImmediate(() => {
          if (mayBeWaiting) wake();
        });
      }
    },
  });

  /**
   * Ends a run no one is executing (waiting in a queue, or left by a dead worker), in one
   * transaction: the row becomes `cancelled` (its epoch moves, fencing out any late writer) and
   * its `run.cancelled` event is stored; then the hold is released. Undefined when the run is
   * leased (its owner must cancel it) or already finished.
   */
  const cancelUnleased = async (runId: string, reason: string): Promise<boolean> => {
    const ended = await db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ hold_id: string | null; user_id: string; lease_epoch: number }>`
        update runs
           set status = 'cancelled', finished_at = ${now()}, lease_epoch = lease_epoch + 1,
               lease_owner = null, lease_expires_at = null
         where id = ${runId} and status in ('queued', 'running')
           and (lease_expires_at is null or lease_expires_at <= now())
        returning hold_id, user_id, lease_epoch`.execute(trx);
      const row = rows[0];
      if (row === undefined) return undefined;
      const last = await trx
        .selectFrom('run_events')
        .select(sql<number>`coalesce(max(seq), 0)`.as('seq'))
        .where('run_id', '=', runId)
        .executeTakeFirstOrThrow();
      const event = { type: 'run.cancelled', runId, seq: last.seq + 1, at: now().getTime(), reason };
      await trx
        .insertInto('run_events')
        .values({ run_id: runId, seq: event.seq, type: event.type, payload: JSON.stringify(event) })
        .execute();
      if (notifyChannel !== undefined) await sql`select pg_notify(${notifyChannel}, ${runId})`.execute(trx);
      return { ...row, event };
    });
    if (ended === undefined) return false;
    bus.publish(runId, [{ seq: ended.event.seq, type: ended.event.type, payload: ended.event }]);
    bus.end(runId);
    if (ended.hold_id !== null) await ledger.release({ holdId: ended.hold_id });
    const cost = { estimated: 0, reserved: 0, captured: 0, released: 0, saved: 0 };
    await notifyEnded({
      runId,
      userId: ended.user_id,
      status: 'cancelled',
      outcome: { status: 'cancelled', runId, reason, outputs: {}, cost },
    });
    return true;
  };

  const statusOf = async (runId: string) =>
    (await db.selectFrom('runs').select('status').where('id', '=', runId).executeTakeFirst())?.status;

  // Distributed mode: take runs from the queue while there are free slots, and send again the
  // runs whose lease lapsed (their worker died) or that were never sent.
  const timers: NodeJS.Timeout[] = [];
  let taking = false;
  /** Whether runs may be waiting in the queue: told so, or the last look filled every free slot. */
  let mayBeWaiting = true;
  /** Takes what the free slots allow; the runs taken, or undefined when it did not ask (busy, full, closed). */
  const take = async (): Promise<number | undefined> => {
    if (closed || taking || dispatch === undefined) return undefined;
    const free = maxRuns - queue.size;
    if (free <= 0) return undefined;
    taking = true;
    try {
      const jobs = await dispatch.take(free);
      mayBeWaiting = jobs.length >= free;
      for (const job of jobs) queue.add(job);
      return jobs.length;
    } catch (error) {
      log.warn({ err: error }, 'could not take runs from the queue');
      return undefined;
    } finally {
      taking = false;
    }
  };
  // The queue is looked at when told (a dispatch notification, a run sent from here, a slot
  // freed) and, as a fallback for what comes untold (a run sent back with a delay, a notification
  // missed), on a timer that backs off while the queue stays empty: idle workers ask every
  // `idlePollMs`, not every `pollMs`.
  const basePollMs = options.pollMs ?? 500;
  const idlePollMs = Math.max(basePollMs, options.idlePollMs ?? 2_000);
  let pollDelay = basePollMs;
  let pollTimer: NodeJS.Timeout | undefined;
  const schedulePoll = () => {
    if (pollTimer !== undefined) clearTimeout(pollTimer);
    pollTimer = undefined;
    if (closed) return;
    pollTimer = setTimeout(() => {
      pollTimer = undefined;
      void take().then((found) => {
        if (found === 0) pollDelay = Math.min(idlePollMs, pollDelay * 2);
        else if (found !== undefined) pollDelay = basePollMs;
        schedulePoll();
      });
    }, pollDelay);
    pollTimer.unref();
  };
  /** Looks at the queue now (runs were sent to it), and soon again. */
  const wake = () => {
    if (dispatch === undefined || !work) return;
    mayBeWaiting = true;
    pollDelay = basePollMs;
    void take();
    schedulePoll();
  };
  const sweep = async (): Promise<number> => {
    if (closed || dispatch === undefined) return 0;
    const jobs = await sweepLapsedLeases(db, { redispatchAfterMs: leaseTtlMs });
    for (const job of jobs) await dispatch.send(job);
    if (jobs.length > 0) {
      log.info({ runs: jobs.length }, 'sent runs with lapsed leases back to the queue');
      wake();
    }
    return jobs.length;
  };
  if (dispatch !== undefined && work) {
    schedulePoll();
    const sweepTimer = setInterval(
      () => {
        sweep().catch((error: unknown) => log.warn({ err: error }, 'lease sweep failed'));
      },
      options.sweepMs ?? Math.min(5_000, Math.max(100, Math.floor(leaseTtlMs / 2))),
    );
    sweepTimer.unref();
    timers.push(sweepTimer);
  }

  return Object.freeze({
    registry: registry as unknown as NodeRegistry,
    events: bus,
    holdTtlMs,
    workerId,
    async submit(runId: string, knownUserId?: string) {
      if (closed) return;
      const userId =
        knownUserId ??
        (await db.selectFrom('runs').select('user_id').where('id', '=', runId).executeTakeFirst())?.user_id;
      if (userId === undefined) return;
      const job = { runId, userId };
      // Embedded, or distributed with a free slot here for this user: this process takes the run
      // itself, with no queue job, no wake-up and no fetch (three statements fewer and no dispatch
      // wait). The lease still decides, as for a run taken from the queue: the per-user limit
      // across machines sends it to the queue after all. Should this process die before the lease,
      // the sweep sends the run to the queue once its accept-time `dispatched_at` is a lease old.
      if (dispatch === undefined || (work && queue.startsNow(userId))) {
        queue.add(job);
        return;
      }
      await dispatch.send(job);
      await markSent(runId);
      wake();
    },
    async cancel(runId: string, reason = 'Cancelled by the user.') {
      if (queue.remove(runId)) {
        await cancelUnleased(runId, reason);
        return statusOf(runId);
      }
      if (handles.has(runId) || queue.isRunning(runId)) {
        cancelHere(runId, reason);
        // Between this process's queue and the engine, the row may still say `queued`.
        const status = await statusOf(runId);
        return status === 'queued' ? 'running' : status;
      }
      if (await cancelUnleased(runId, reason)) return statusOf(runId);
      // Leased by another worker (or by this process between queue and engine): ask its owner.
      await db
        .updateTable('runs')
        .set({ cancel_requested: reason })
        .where('id', '=', runId)
        .where('status', 'in', ['queued', 'running'])
        .execute();
      if (dispatch !== undefined) await sql`select pg_notify(${RUN_CANCEL_CHANNEL}, ${runId})`.execute(db);
      if (queue.isRunning(runId)) cancelHere(runId, reason);
      return statusOf(runId);
    },
    isExecuting: (runId: string) => leased.has(runId) || handles.has(runId),
    leasedRun: (runId: string) => leased.get(runId),
    pollQueue() {
      wake();
    },
    async applyRemoteCancel(runId: string) {
      if (!handles.has(runId) && !queue.isRunning(runId)) return;
      const row = await db
        .selectFrom('runs')
        .select('cancel_requested')
        .where('id', '=', runId)
        .executeTakeFirst();
      if (row?.cancel_requested != null) cancelHere(runId, row.cancel_requested);
    },
    async queuePosition(runId: string) {
      const local = queue.position(runId);
      if (local !== undefined || dispatch === undefined) return local;
      // Distributed: the runs accepted before this one and not started yet, on every machine.
      const { rows } = await sql<{ position: number }>`
        select count(*)::integer as position from runs
         where status = 'queued'
           and created_at <= (select created_at from runs where id = ${runId} and status = 'queued')`.execute(
        db,
      );
      const position = rows[0]?.position ?? 0;
      return position === 0 ? undefined : position;
    },
    async resumeUnfinished() {
      if (closed) return 0;
      if (dispatch !== undefined) return sweep();
      // Embedded: this process is the only one on its database, so leases left by the previous
      // one are void.
      await db
        .updateTable('runs')
        .set({ lease_owner: null, lease_expires_at: null })
        .where('status', 'in', ['queued', 'running'])
        .execute();
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
      for (const timer of timers) clearInterval(timer);
      if (pollTimer !== undefined) clearTimeout(pollTimer);
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<'grace'>((resolve) => {
        timer = setTimeout(() => resolve('grace'), closeOptions.graceMs ?? 30_000);
        timer.unref();
      });
      const settled = queue.close();
      const first = await Promise.race([settled.then(() => 'done' as const), grace]);
      clearTimeout(timer);
      if (first === 'done') {
        heartbeat.stop();
        return;
      }
      // Past the grace period: give the leases up so another worker (or the next start) resumes
      // these runs at once, and stop them here without writing anything more.
      const left = [...fences.values()].filter((fence) => fence.epoch !== -1);
      for (const fence of left) {
        loseLease(fence.runId, 'shutting down: lease given up');
        await giveUpRunLease(db, fence).catch((error: unknown) =>
          log.warn({ err: error, runId: fence.runId }, 'could not give the lease up; it will lapse'),
        );
      }
      heartbeat.stop();
      await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
    },
  });
}

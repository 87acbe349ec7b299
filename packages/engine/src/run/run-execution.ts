import type { EventEmitter } from 'eventemitter3';
import type { NodeRecord, ReservationRecord, RunStatus } from '../checkpoint/checkpoint-records.ts';
import type { CheckpointStore } from '../checkpoint/checkpoint-store.ts';
import type { BillingHooks } from '../cost/billing-hooks.ts';
import { EngineError } from '../errors/engine-error.ts';
import { StaleFenceError } from '../errors/stale-fence-error.ts';
import { toEngineError } from '../errors/to-engine-error.ts';
import type {
  RunEmitterEvents,
  RunEvent,
  RunEventBase,
  RunEventMap,
  RunEventType,
  SkipReason,
} from '../events/run-events.ts';
import type { ExecutionPlan, PlanNode } from '../graph/execution-plan.ts';
import type { RunId } from '../ids/ids.ts';
import type { RetryPolicy } from '../node/retry-policy.ts';
import type { EngineOptions, FailurePolicy } from './engine-options.ts';
import { executeNode, type NodeRuntime } from './execute-node.ts';
import type { KeyLimits } from './key-limits.ts';
import { lookUpCache } from './look-up-cache.ts';
import { CANCELLED, COMMITTING, DONE, FAILED, PENDING, QUEUED, RUNNING, SKIPPED } from './node-states.ts';
import type { RunCost, RunOutcome } from './run-outcome.ts';
import { RunSlots } from './run-slots.ts';

/** Engine-wide settings a run executes under. @internal */
export interface RunEnvironment {
  readonly options: EngineOptions;
  readonly store: CheckpointStore;
  readonly keys: KeyLimits;
  readonly retry: RetryPolicy;
  readonly concurrency: number;
  readonly failurePolicy: FailurePolicy;
  readonly random: () => number;
}

/** Where a run starts from: a fresh run, a resumed one or a rerun. @internal */
export interface RunStart {
  readonly runId: RunId;
  readonly plan: ExecutionPlan;
  readonly fence: number;
  /** Node records already stored (completed nodes are not run again). */
  readonly restored: readonly NodeRecord[];
  readonly reservation: ReservationRecord | undefined;
  /** The host placed `reservation` before the start: announce it (`cost.reserved`) instead of reserving. */
  readonly announceReservation?: boolean;
  /** The last event sequence number already used. */
  readonly lastSeq: number;
  readonly resumed: boolean;
  /** Nodes that must run even if the output cache has their result (a rerun's `from` and downstream). */
  readonly bypassCache?: ReadonlySet<string>;
}

/** Lets the handle cancel or abandon a running execution. @internal */
export interface RunControl {
  /** A cancel requested before the execution began. */
  requested: string | undefined;
  cancel: (reason: string) => void;
  /** Whether `abandon` was called before the execution began. */
  abandoned: boolean;
  abandon: () => void;
}

/**
 * What a run is estimated to cost from here: its nodes' costs, but for those `restored` as
 * completed (a rerun's reused nodes, a resumed run's finished ones). @internal
 */
export function estimateUnfinished(plan: ExecutionPlan, restored: readonly NodeRecord[]): number {
  const done = new Set(
    restored.filter((record) => record.status === 'completed').map((record) => record.nodeId),
  );
  let estimate = 0;
  for (const node of plan.nodes) if (!done.has(node.id)) estimate += node.cost;
  return estimate;
}

/**
 * Executes a run: schedules ready nodes under the limits, checkpoints and captures each success,
 * applies the failure policy, and settles the credit hold at the end. See ARCHITECTURE.md. @internal
 */
export async function executeRun(args: {
  readonly env: RunEnvironment;
  readonly start: RunStart;
  readonly emitter: EventEmitter<RunEmitterEvents>;
  readonly control: RunControl;
}): Promise<RunOutcome> {
  const { env, start, emitter, control } = args;
  const { plan, runId, fence } = start;
  const { store, options } = env;
  const billing = options.billing;
  const nodes = plan.nodes;
  const n = nodes.length;
  const status = new Uint8Array(n);
  const remaining = new Int32Array(n);
  const outputs: unknown[] = new Array(n);
  const states: unknown[] = new Array(n);
  const controller = new AbortController();
  /** Durable work a finishing run must wait for: commits of succeeded nodes, failure records, the hold. */
  let inflight = 0;
  let onDrained: (() => void) | undefined;
  const startedAt = Date.now();

  let seq = start.lastSeq;
  let settled = 0;
  let stopped = false;
  let finishing = false;
  let lost = false;
  let reservation = start.reservation;
  let captured = 0;
  let saved = 0;
  let failure: { error: EngineError; nodeId?: string } | undefined;
  let cancelReason: string | undefined;
  let resolve!: (outcome: RunOutcome) => void;
  const done = new Promise<RunOutcome>((r) => {
    resolve = r;
  });
  /** Resolves when the run stops, so a node body that ignores its signal frees its key slot anyway. */
  let signalStopped!: () => void;
  const whenStopped = new Promise<void>((r) => {
    signalStopped = r;
  });

  const emitAny = emitter.emit.bind(emitter) as (type: string, event: RunEvent) => boolean;
  const onEvent = options.hooks?.onEvent;
  const emit = <K extends RunEventType>(type: K, payload: RunEventMap[K]): void => {
    // Payloads are fresh object literals at every call site: completing one in place saves a copy.
    const event = payload as Mutable<RunEventBase> & RunEventMap[K];
    event.type = type;
    event.runId = runId;
    event.seq = ++seq;
    event.at = Date.now();
    emitAny(type, event as RunEvent);
    emitAny('event', event as RunEvent);
    onEvent?.(event as RunEvent);
  };

  const settleInflight = (): void => {
    if (--inflight === 0 && onDrained !== undefined) {
      const drained = onDrained;
      onDrained = undefined;
      drained();
    }
  };
  const track = <T>(promise: Promise<T>): Promise<T> => {
    inflight++;
    promise.then(settleInflight, settleInflight);
    return promise;
  };

  /** A failed store write: a stale fence means another worker owns the run, so this one stops silently. */
  const writeFailed = (error: unknown): void => {
    if (error instanceof StaleFenceError) lose(error);
    else stop('failed', { error: toEngineError(error) });
  };
  const write = async (op: () => Promise<void>): Promise<boolean> => {
    try {
      await op();
      return true;
    } catch (error) {
      writeFailed(error);
      return false;
    }
  };

  const runtime: NodeRuntime = {
    runId,
    signal: controller.signal,
    retry: env.retry,
    timeoutMs: options.nodeTimeoutMs,
    random: env.random,
    secrets: options.secrets,
    services: options.services,
    isStopped: () => stopped,
    emit,
    reportError: (node, attempt, error, retrying) => {
      const onNodeError = options.hooks?.onNodeError;
      if (onNodeError === undefined) return;
      try {
        onNodeError({ runId, nodeId: node.id, nodeType: node.def.type, attempt, error, retrying });
      } catch {
        // A logging hook must not change the run.
      }
    },
    saveState: async ({ node, attempt, state }) => {
      states[node.index] = state;
      const record: NodeRecord = {
        nodeId: node.id,
        status: 'running',
        attempt,
        state,
        cost: node.cost,
        captured: false,
      };
      if (!(await write(() => store.saveNode({ runId, fence, node: record, seq })))) {
        throw new EngineError('CANCELLED', 'The run stopped while saving node state.', { retryable: false });
      }
    },
  };

  // Scheduling: a run slot per running node (up to `concurrency`), entered after the node's key slot.
  const launch = (node: PlanNode): void => {
    status[node.index] = QUEUED;
    const key = node.def.concurrencyKey?.({ config: node.config });
    const keyQueue = key === undefined ? undefined : env.keys.queueFor(key);
    if (keyQueue === undefined) {
      slots.take(node, undefined);
      return;
    }
    keyQueue
      .add(() => Promise.race([new Promise<void>((onSettled) => slots.take(node, onSettled)), whenStopped]))
      .catch((error: unknown) => stop('failed', { error: toEngineError(error) }));
  };

  const bindings = plan.bindings;
  const assembleInput = (index: number): Record<string, unknown> => {
    const input: Record<string, unknown> = {};
    for (let k = bindings.start[index]!; k < bindings.start[index + 1]!; k++) {
      input[bindings.port[k]!] = (outputs[bindings.source[k]!] as Record<string, unknown>)[
        bindings.sourcePort[k]!
      ];
    }
    return input;
  };

  /**
   * Runs a node in a run slot, freed when the node settles (or at once if the run has stopped): its
   * body, then the commit of its output. Never rejects: a throw (from an event listener, say) fails
   * the run.
   */
  const runInSlot = async (node: PlanNode, onSettled: (() => void) | undefined): Promise<void> => {
    let thrown: { error: unknown } | undefined;
    try {
      if (stopped) return;
      status[node.index] = RUNNING;
      const nodeStartedAt = Date.now();
      const input = assembleInput(node.index);
      let cacheKey: string | undefined;
      if (options.cache !== undefined && node.def.cacheable !== false && !start.bypassCache?.has(node.id)) {
        const cached = await lookUpCache({ cache: options.cache, node, input });
        if (stopped) return;
        cacheKey = cached.key;
        if (cached.hit !== undefined) {
          status[node.index] = COMMITTING;
          const { id: nodeId, cost } = node;
          emit('node.cached', {
            nodeId,
            nodeType: node.def.type,
            output: cached.hit,
            saved: cost,
            source: 'cache',
          });
          saved += cost;
          return await commit(node, cached.hit, 0, nodeStartedAt, 'cache', undefined);
        }
      }
      const execution = executeNode({ node, input, state: states[node.index], runtime });
      // A node whose `run` returned synchronously has its result at once: no microtask hop.
      const result = execution instanceof Promise ? await execution : execution;
      if (stopped) return;
      if (!result.ok) {
        if (!('stopped' in result)) fail(node, result.error, result.attempt);
        return;
      }
      status[node.index] = COMMITTING;
      states[node.index] = result.state;
      await commit(node, result.output, result.attempt, nodeStartedAt, undefined, cacheKey);
    } catch (error) {
      thrown = { error };
    } finally {
      slots.free();
      onSettled?.();
      if (thrown !== undefined) stop('failed', { error: toEngineError(thrown.error) });
    }
  };

  const slots = new RunSlots<PlanNode>(env.concurrency, (node, onSettled) => void runInSlot(node, onSettled));

  /**
   * Commits a success: checkpoint, cache, capture, then unblocks dependents. Not interrupted by a
   * stop; counted as durable work in flight.
   */
  const commit = async (
    node: PlanNode,
    output: unknown,
    attempt: number,
    nodeStartedAt: number,
    reused: 'cache' | undefined,
    cacheKey: string | undefined,
  ): Promise<void> => {
    inflight++;
    try {
      const cost = reused === undefined ? node.cost : 0;
      const needsCapture = billing !== undefined && reservation?.id !== undefined && cost > 0;
      const endedAt = Date.now();
      const record: Mutable<NodeRecord> = {
        nodeId: node.id,
        status: 'completed',
        attempt,
        output,
        cost,
        captured: !needsCapture,
        startedAt: nodeStartedAt,
        endedAt,
      };
      if (states[node.index] !== undefined) record.state = states[node.index];
      if (reused !== undefined) record.reused = reused;
      if (needsCapture && store.commitNode !== undefined) {
        // The store saves and charges in one atomic write.
        if (!(await commitNode(node, cost, record))) return;
        if (cacheKey !== undefined) await options.cache!.set({ key: cacheKey, value: output });
      } else {
        try {
          await store.saveNode({ runId, fence, node: record, seq });
        } catch (error) {
          writeFailed(error);
          return;
        }
        if (cacheKey !== undefined) await options.cache!.set({ key: cacheKey, value: output });
        if (needsCapture && !(await captureNode(node, cost, record))) return;
      }
      if (lost) return;
      outputs[node.index] = output;
      status[node.index] = DONE;
      if (reused === undefined) {
        emit('node.completed', {
          nodeId: node.id,
          nodeType: node.def.type,
          output,
          durationMs: endedAt - nodeStartedAt,
          cost,
          attempt,
        });
      }
      settled++;
      unblockDependents(node);
      if (settled === n) void finish();
    } finally {
      settleInflight();
    }
  };

  const captureArgs = (node: PlanNode, cost: number, reservationId: string): BillingHooks.CaptureArgs => ({
    runId,
    reservationId,
    nodeId: node.id,
    amount: cost,
    idempotencyKey: `${runId}:${node.id}`,
  });

  const captureNode = async (node: PlanNode, cost: number, record: NodeRecord): Promise<boolean> => {
    if (billing === undefined || reservation?.id === undefined || lost) return false;
    try {
      await billing.capture(captureArgs(node, cost, reservation.id));
    } catch (error) {
      stop('failed', { error: toEngineError(error), nodeId: node.id });
      return false;
    }
    captured += cost;
    emit('cost.captured', { nodeId: node.id, amount: cost });
    return write(() => store.saveNode({ runId, fence, node: { ...record, captured: true }, seq }));
  };

  /** The store's one-write commit of a paid success: checkpoint and capture together. */
  const commitNode = async (node: PlanNode, cost: number, record: NodeRecord): Promise<boolean> => {
    if (reservation?.id === undefined || lost) return false;
    try {
      await store.commitNode!({
        runId,
        fence,
        node: { ...record, captured: true },
        seq,
        capture: captureArgs(node, cost, reservation.id),
      });
    } catch (error) {
      if (error instanceof StaleFenceError) lose(error);
      else stop('failed', { error: toEngineError(error), nodeId: node.id });
      return false;
    }
    captured += cost;
    emit('cost.captured', { nodeId: node.id, amount: cost });
    return true;
  };

  /** Counts a settled upstream for each dependent and launches those that became ready. */
  const unblockDependents = (node: PlanNode): void => {
    if (stopped) return;
    const { start, items } = plan.dependents;
    for (let k = start[node.index]!; k < start[node.index + 1]!; k++) {
      const dep = items[k]!;
      if (--remaining[dep]! === 0 && status[dep] === PENDING) launch(nodes[dep]!);
    }
  };

  const fail = (node: PlanNode, error: EngineError, attempt: number): void => {
    status[node.index] = FAILED;
    failure ??= { error, nodeId: node.id };
    emit('node.failed', { nodeId: node.id, nodeType: node.def.type, attempt, error: error.toJSON() });
    runtime.reportError(node, attempt, error, false);
    settled++;
    skipDescendants(node);
    const record: NodeRecord = {
      nodeId: node.id,
      status: 'failed',
      attempt,
      error: error.toJSON(),
      ...(states[node.index] === undefined ? {} : { state: states[node.index] }),
      cost: node.cost,
      captured: true,
      endedAt: Date.now(),
    };
    track(write(() => store.saveNode({ runId, fence, node: record, seq })));
    if (env.failurePolicy === 'stop-all') stop('failed', failure);
    else if (settled === n) void finish();
  };

  const skipDescendants = (from: PlanNode): void => {
    const { start, items } = plan.dependents;
    const stack: number[] = [];
    const pushDependents = (index: number): void => {
      for (let k = start[index]!; k < start[index + 1]!; k++) stack.push(items[k]!);
    };
    pushDependents(from.index);
    while (stack.length > 0) {
      const index = stack.pop()!;
      if (status[index] !== PENDING) continue;
      status[index] = SKIPPED;
      settled++;
      const node = nodes[index]!;
      emit('node.skipped', {
        nodeId: node.id,
        nodeType: node.def.type,
        reason: 'upstream-failed',
        causeNodeId: from.id,
      });
      pushDependents(index);
    }
  };

  /**
   * Stops the run now: running nodes are cancelled, queued and pending ones skipped, nothing new
   * starts; nodes already committing a success finish committing. Then the run finishes.
   */
  const stop = (kind: 'failed' | 'cancelled', cause?: { error: EngineError; nodeId?: string }): void => {
    if (stopped) return;
    stopped = true;
    signalStopped();
    if (kind === 'failed' && cause !== undefined) failure ??= cause;
    const reason: SkipReason = kind === 'cancelled' ? 'cancelled' : 'run-stopped';
    const why = kind === 'cancelled' ? (cancelReason ?? 'cancelled') : 'the run stopped after a failure';
    controller.abort(new EngineError('CANCELLED', why, { retryable: false }));
    for (const node of nodes) {
      const s = status[node.index];
      if (s === RUNNING) {
        status[node.index] = CANCELLED;
        emit('node.cancelled', { nodeId: node.id, nodeType: node.def.type, reason: why });
      } else if (s === PENDING || s === QUEUED) {
        status[node.index] = SKIPPED;
        emit('node.skipped', { nodeId: node.id, nodeType: node.def.type, reason });
      }
    }
    void finish();
  };

  /** Another writer took the run over: stop without writing, releasing or emitting anything more. */
  const lose = (error: StaleFenceError): void => {
    if (lost) return;
    lost = true;
    stopped = true;
    finishing = true;
    signalStopped();
    controller.abort(error);
    resolve({ status: 'failed', runId, error, outputs: collectOutputs(), cost: costSummary(0) });
  };

  const collectOutputs = (): Record<string, unknown> => {
    const result: Record<string, unknown> = {};
    for (const node of nodes) if (status[node.index] === DONE) result[node.id] = outputs[node.index];
    return result;
  };

  const costSummary = (released: number): RunCost => ({
    estimated: estimate,
    reserved: reservation?.amount ?? 0,
    captured,
    released,
    saved,
  });

  /** Ends the run once durable work in flight has settled: releases the rest of the hold, writes the end. */
  const finish = async (): Promise<void> => {
    if (finishing) return;
    finishing = true;
    stopped = true;
    signalStopped();
    while (inflight > 0) {
      await new Promise<void>((drained) => {
        onDrained = drained;
      });
    }
    if (lost) return;
    const finalStatus: RunStatus =
      cancelReason !== undefined ? 'cancelled' : failure !== undefined ? 'failed' : 'completed';
    // The end is saved before the release: a crash in between leaves a finished run whose release
    // `resume` repeats (idempotently), never a running one whose nodes could charge a released hold.
    const releaseId = billing === undefined ? undefined : reservation?.id;
    let released = releaseId === undefined ? 0 : Math.max(0, reservation!.amount - captured);
    const endPatch = {
      status: finalStatus,
      released,
      releasePending: releaseId !== undefined,
      cost: costSummary(released),
      lastSeq: seq + (releaseId === undefined ? 1 : 2),
      ...(failure === undefined ? {} : { error: failure.error.toJSON() }),
      ...(failure?.nodeId === undefined ? {} : { failedNodeId: failure.nodeId }),
      ...(cancelReason === undefined ? {} : { cancelReason }),
    };
    const releaseArgs =
      releaseId === undefined
        ? undefined
        : { runId, reservationId: releaseId, amount: released, idempotencyKey: `${runId}:release` };
    // The store's one-write end, when it has one: the end saved and the hold released together.
    // Anything short of both changed nothing, and the three writes below take over.
    const committedEnd =
      releaseArgs !== undefined &&
      store.commitRunEnd !== undefined &&
      (await store
        .commitRunEnd({ runId, fence, patch: { ...endPatch, releasePending: false }, release: releaseArgs })
        .catch(() => false));
    if (committedEnd) emit('cost.released', { amount: released });
    else await write(() => store.saveRun({ runId, fence, patch: endPatch }));
    if (lost) return;
    if (releaseArgs !== undefined && !committedEnd) {
      try {
        await billing!.release(releaseArgs);
        emit('cost.released', { amount: released });
        await write(() => store.saveRun({ runId, fence, patch: { releasePending: false } }));
      } catch {
        // The run stays `releasePending`: `resume(runId)` (or the host's sweeper) releases it later.
        released = 0;
      }
      if (lost) return;
    }
    const outputsById = collectOutputs();
    const cost = costSummary(released);
    if (finalStatus === 'completed') {
      emit('run.completed', { durationMs: Date.now() - startedAt, captured, saved });
      resolve({ status: 'completed', runId, outputs: outputsById, cost });
    } else if (finalStatus === 'cancelled') {
      const reason = cancelReason ?? 'cancelled';
      emit('run.cancelled', { reason });
      resolve({ status: 'cancelled', runId, reason, outputs: outputsById, cost });
    } else {
      const error = failure?.error ?? new EngineError('INTERNAL', 'The run failed.');
      const nodeId = failure?.nodeId;
      emit('run.failed', { error: error.toJSON(), ...(nodeId === undefined ? {} : { nodeId }) });
      resolve({
        status: 'failed',
        runId,
        error,
        outputs: outputsById,
        cost,
        ...(nodeId === undefined ? {} : { nodeId }),
      });
    }
  };

  // Restore what earlier attempts at this run finished.
  const restoredDone = new Map<string, NodeRecord>();
  for (const record of start.restored) {
    const node = plan.byId.get(record.nodeId);
    if (node === undefined) continue;
    if (record.status === 'completed') restoredDone.set(record.nodeId, record);
    else if (record.state !== undefined) states[node.index] = record.state;
  }
  const estimate = estimateUnfinished(plan, start.restored);

  control.cancel = (reason) => {
    if (stopped) return;
    cancelReason = reason;
    stop('cancelled');
  };
  // Giving the run up to another writer: stop as a stale writer does, so nothing more is written
  // and provider jobs keep running for whoever resumes the run.
  control.abandon = () => lose(new StaleFenceError({ runId, fence, current: fence }));
  if (control.abandoned) {
    control.abandon();
    return done;
  }

  emit('run.started', { resumed: start.resumed, nodeCount: n, estimatedCost: estimate });
  if (control.requested !== undefined) control.cancel(control.requested);
  if (stopped) return done;

  remaining.set(plan.upstreamCount);
  for (const [nodeId, record] of restoredDone) {
    const node = plan.byId.get(nodeId)!;
    status[node.index] = DONE;
    outputs[node.index] = record.output;
    settled++;
    if (record.reused === undefined && record.captured && reservation?.id !== undefined)
      captured += record.cost;
    if (record.reused === 'rerun' && !start.resumed) {
      saved += node.cost;
      emit('node.cached', {
        nodeId,
        nodeType: node.def.type,
        output: record.output,
        saved: node.cost,
        source: 'rerun',
      });
    }
  }

  // Hold credits for what is left to run, unless an earlier attempt already did. A cancel while the
  // hold is being placed waits for it (`inflight`), so the hold is released, never leaked.
  /** Each node still to run and its cost, for `cost.reserved`. */
  const breakdownOf = (): Record<string, number> => {
    const breakdown: Record<string, number> = {};
    for (const node of nodes) if (!restoredDone.has(node.id) && node.cost > 0) breakdown[node.id] = node.cost;
    return breakdown;
  };
  if (start.announceReservation === true && reservation?.id !== undefined) {
    // The host placed the hold before the start and it is stored with the run: nothing to write.
    emit('cost.reserved', {
      amount: reservation.amount,
      reservationId: reservation.id,
      breakdown: breakdownOf(),
    });
  } else if (billing !== undefined && reservation === undefined && estimate > 0) {
    const breakdown = breakdownOf();
    // Tracked before the host is called, so a cancel from inside `reserve` still waits for the hold.
    const placed = await track(
      Promise.resolve()
        .then(async () => {
          const { reservationId } = await billing.reserve({
            runId,
            amount: estimate,
            breakdown,
            idempotencyKey: runId,
          });
          reservation = { id: reservationId, amount: estimate };
          emit('cost.reserved', { amount: estimate, reservationId, breakdown });
          return write(() =>
            store.saveRun({ runId, fence, patch: { reservation: reservation!, lastSeq: seq } }),
          );
        })
        .catch((error: unknown) => {
          failure ??= { error: toEngineError(error) };
          return false;
        }),
    );
    if (!placed) {
      stopped = true;
      for (const node of nodes) if (status[node.index] === PENDING) status[node.index] = SKIPPED;
      void finish();
      return done;
    }
    if (stopped) return done;
  }

  // Catch up captures a crash interrupted (the host's idempotency makes repeats free).
  for (const record of restoredDone.values()) {
    if (record.captured || record.reused !== undefined || record.cost === 0) continue;
    const node = plan.byId.get(record.nodeId)!;
    if (!(await track(captureNode(node, record.cost, record)))) return done;
  }
  if (stopped) return done;

  for (const node of restoredDone.keys()) unblockDependents(plan.byId.get(node)!);
  if (settled === n) void finish();
  else
    for (const node of nodes) if (status[node.index] === PENDING && remaining[node.index] === 0) launch(node);
  return done;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

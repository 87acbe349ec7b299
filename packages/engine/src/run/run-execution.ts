import type { EventEmitter } from 'eventemitter3';
import { cacheKeyOf } from '../cache/cache-key.ts';
import type { NodeRecord, ReservationRecord, RunStatus } from '../checkpoint/checkpoint-records.ts';
import type { CheckpointStore } from '../checkpoint/checkpoint-store.ts';
import { EngineError } from '../errors/engine-error.ts';
import { StaleFenceError } from '../errors/stale-fence-error.ts';
import { toEngineError } from '../errors/to-engine-error.ts';
import type {
  RunEmitterEvents,
  RunEvent,
  RunEventMap,
  RunEventType,
  SkipReason,
} from '../events/run-events.ts';
import type { ExecutionPlan, PlanNode } from '../graph/execution-plan.ts';
import type { RunId } from '../ids/ids.ts';
import type { RetryPolicy } from '../node/retry-policy.ts';
import type { EngineOptions, FailurePolicy } from './engine-options.ts';
import { executeNode, type NodeRuntime } from './execute-node.ts';
import { createLimiter, type KeyLimits } from './limiter.ts';
import type { RunCost, RunOutcome } from './run-outcome.ts';

/** Node states in the scheduler's table. */
const PENDING = 0;
const RUNNING = 1;
const DONE = 2;
const FAILED = 3;
const SKIPPED = 4;
const CANCELLED = 5;

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
  /** The last event sequence number already used. */
  readonly lastSeq: number;
  readonly resumed: boolean;
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
  const limiter = createLimiter({ concurrency: env.concurrency, keys: env.keys });
  const pendingCaptures = new Set<Promise<void>>();
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

  const emitAny = emitter.emit.bind(emitter) as (type: string, event: RunEvent) => boolean;
  const onEvent = options.hooks?.onEvent;
  const emit = <K extends RunEventType>(type: K, payload: RunEventMap[K]): void => {
    const event = { type, runId, seq: ++seq, at: Date.now(), ...payload } as unknown as RunEvent;
    emitAny(type, event);
    emitAny('event', event);
    onEvent?.(event);
  };

  /** Store writes: a stale fence means another worker owns the run, so this one stops silently. */
  const write = async (op: () => Promise<void>): Promise<boolean> => {
    try {
      await op();
      return true;
    } catch (error) {
      if (error instanceof StaleFenceError) lose(error);
      else stop('failed', { error: toEngineError(error) });
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
      const ok = await write(() => store.saveNode({ runId, fence, node: record, seq }));
      if (!ok)
        throw new EngineError('CANCELLED', 'The run stopped while saving node state.', { retryable: false });
    },
  };

  const assembleInput = (node: PlanNode): Record<string, unknown> => {
    const input: Record<string, unknown> = {};
    for (const binding of node.bindings) {
      input[binding.port] = (outputs[binding.source] as Record<string, unknown>)[binding.sourcePort];
    }
    return input;
  };

  const launch = (node: PlanNode): void => {
    status[node.index] = RUNNING;
    const key = node.def.concurrencyKey?.({ config: node.config });
    limiter
      .run(key, () => runTask(node))
      .catch((error: unknown) => stop('failed', { error: toEngineError(error) }));
  };

  const runTask = async (node: PlanNode): Promise<void> => {
    if (stopped) return;
    const nodeStartedAt = Date.now();
    const input = assembleInput(node);
    const cacheKey =
      options.cache !== undefined && node.def.cacheable !== false
        ? await cacheKeyOf({ type: node.def.type, version: node.def.version, config: node.config, input })
        : undefined;
    if (cacheKey !== undefined) {
      const hit = await options.cache!.get({ key: cacheKey });
      if (stopped) return;
      if (hit !== undefined && node.def.output.safeParse(hit).success) {
        emit('node.cached', {
          nodeId: node.id,
          nodeType: node.def.type,
          output: hit,
          saved: node.cost,
          source: 'cache',
        });
        saved += node.cost;
        return complete({ node, output: hit, attempt: 0, reused: 'cache', startedAt: nodeStartedAt });
      }
    }
    const result = await executeNode({ node, input, state: states[node.index], runtime });
    if (stopped) return;
    if (!result.ok) {
      if ('stopped' in result) return;
      return fail(node, result.error, result.attempt);
    }
    states[node.index] = result.state;
    if (cacheKey !== undefined) await options.cache!.set({ key: cacheKey, value: result.output });
    return complete({ node, output: result.output, attempt: result.attempt, startedAt: nodeStartedAt });
  };

  const complete = async (c: {
    readonly node: PlanNode;
    readonly output: unknown;
    readonly attempt: number;
    readonly startedAt: number;
    readonly reused?: 'cache';
  }): Promise<void> => {
    const { node } = c;
    const cost = c.reused === undefined ? node.cost : 0;
    const needsCapture = billing !== undefined && reservation?.id !== undefined && cost > 0;
    const endedAt = Date.now();
    const record: NodeRecord = {
      nodeId: node.id,
      status: 'completed',
      attempt: c.attempt,
      output: c.output,
      ...(states[node.index] === undefined ? {} : { state: states[node.index] }),
      cost,
      captured: !needsCapture,
      ...(c.reused === undefined ? {} : { reused: c.reused }),
      startedAt: c.startedAt,
      endedAt,
    };
    if (!(await write(() => store.saveNode({ runId, fence, node: record, seq })))) return;
    if (stopped) return;
    if (needsCapture && !(await captureNode(node, cost, record))) return;
    outputs[node.index] = c.output;
    status[node.index] = DONE;
    if (c.reused === undefined) {
      emit('node.completed', {
        nodeId: node.id,
        nodeType: node.def.type,
        output: c.output,
        durationMs: endedAt - c.startedAt,
        cost,
        attempt: c.attempt,
      });
    }
    settled++;
    unblockDependents(node);
    if (settled === n) void finish();
  };

  const captureNode = async (
    node: PlanNode,
    cost: number,
    record: NodeRecord | undefined,
  ): Promise<boolean> => {
    if (stopped || billing === undefined || reservation?.id === undefined) return false;
    const capture = billing
      .capture({
        runId,
        reservationId: reservation.id,
        nodeId: node.id,
        amount: cost,
        idempotencyKey: `${runId}:${node.id}`,
      })
      .then(() => {
        captured += cost;
        emit('cost.captured', { nodeId: node.id, amount: cost });
      });
    pendingCaptures.add(capture);
    try {
      await capture;
    } catch (error) {
      stop('failed', { error: toEngineError(error), nodeId: node.id });
      return false;
    } finally {
      pendingCaptures.delete(capture);
    }
    if (record === undefined) return true;
    return write(() => store.saveNode({ runId, fence, node: { ...record, captured: true }, seq }));
  };

  /** Counts a settled upstream for each dependent and launches those that became ready. */
  const unblockDependents = (node: PlanNode): void => {
    if (stopped) return;
    for (const dep of node.dependents) {
      if (--remaining[dep]! === 0 && status[dep] === PENDING) launch(nodes[dep]!);
    }
  };

  const fail = async (node: PlanNode, error: EngineError, attempt: number): Promise<void> => {
    status[node.index] = FAILED;
    failure ??= { error, nodeId: node.id };
    emit('node.failed', { nodeId: node.id, nodeType: node.def.type, attempt, error: error.toJSON() });
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
    if (!(await write(() => store.saveNode({ runId, fence, node: record, seq })))) return;
    if (env.failurePolicy === 'stop-all') stop('failed', failure);
    else if (settled === n) void finish();
  };

  const skipDescendants = (from: PlanNode): void => {
    const stack = [...from.dependents];
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
      stack.push(...node.dependents);
    }
  };

  /** Stops the run now: running nodes are cancelled, pending ones skipped, then the run finishes. */
  const stop = (kind: 'failed' | 'cancelled', cause?: { error: EngineError; nodeId?: string }): void => {
    if (stopped) return;
    stopped = true;
    if (kind === 'failed' && cause !== undefined) failure ??= cause;
    const reason: SkipReason = kind === 'cancelled' ? 'cancelled' : 'run-stopped';
    const why = kind === 'cancelled' ? (cancelReason ?? 'cancelled') : 'the run stopped after a failure';
    controller.abort(new EngineError('CANCELLED', why, { retryable: false }));
    for (const node of nodes) {
      const s = status[node.index];
      if (s === RUNNING) {
        status[node.index] = CANCELLED;
        emit('node.cancelled', { nodeId: node.id, nodeType: node.def.type, reason: why });
      } else if (s === PENDING) {
        status[node.index] = SKIPPED;
        emit('node.skipped', { nodeId: node.id, nodeType: node.def.type, reason });
      }
    }
    void finish();
  };

  /** Another writer took the run over: stop without writing, releasing or emitting anything. */
  const lose = (error: StaleFenceError): void => {
    if (lost) return;
    lost = true;
    stopped = true;
    finishing = true;
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

  const finish = async (): Promise<void> => {
    if (finishing) return;
    finishing = true;
    stopped = true;
    await Promise.allSettled([...pendingCaptures]);
    if (lost) return;
    const runStatus: RunStatus =
      cancelReason !== undefined ? 'cancelled' : failure !== undefined ? 'failed' : 'completed';
    let released = 0;
    if (billing !== undefined && reservation?.id !== undefined) {
      released = Math.max(0, reservation.amount - captured);
      try {
        await billing.release({ runId, reservationId: reservation.id, amount: released });
        emit('cost.released', { amount: released });
      } catch (error) {
        failure ??= { error: toEngineError(error) };
      }
    }
    const finalStatus: RunStatus = failure !== undefined && runStatus === 'completed' ? 'failed' : runStatus;
    await write(() =>
      store.saveRun({
        runId,
        fence,
        patch: {
          status: finalStatus,
          released,
          lastSeq: seq + 1,
          ...(failure === undefined ? {} : { error: failure.error.toJSON() }),
          ...(failure?.nodeId === undefined ? {} : { failedNodeId: failure.nodeId }),
          ...(cancelReason === undefined ? {} : { cancelReason }),
        },
      }),
    );
    if (lost) return;
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
      emit('run.failed', {
        error: error.toJSON(),
        ...(failure?.nodeId === undefined ? {} : { nodeId: failure.nodeId }),
      });
      resolve({
        status: 'failed',
        runId,
        error,
        outputs: outputsById,
        cost,
        ...(failure?.nodeId === undefined ? {} : { nodeId: failure.nodeId }),
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
  let estimate = 0;
  for (const node of nodes) if (!restoredDone.has(node.id)) estimate += node.cost;

  control.cancel = (reason) => {
    if (stopped) return;
    cancelReason = reason;
    stop('cancelled');
  };

  emit('run.started', { resumed: start.resumed, nodeCount: n, estimatedCost: estimate });
  if (control.requested !== undefined) {
    control.cancel(control.requested);
    return done;
  }

  for (const node of nodes) remaining[node.index] = node.upstreamCount;
  for (const [nodeId, record] of restoredDone) {
    const node = plan.byId.get(nodeId)!;
    status[node.index] = DONE;
    outputs[node.index] = record.output;
    settled++;
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

  // Hold credits for what is left to run, unless an earlier attempt already did.
  if (billing !== undefined && reservation === undefined && estimate > 0) {
    try {
      const breakdown: Record<string, number> = {};
      for (const node of nodes)
        if (!restoredDone.has(node.id) && node.cost > 0) breakdown[node.id] = node.cost;
      const { reservationId } = await billing.reserve({
        runId,
        amount: estimate,
        breakdown,
        idempotencyKey: runId,
      });
      reservation = { id: reservationId, amount: estimate };
      if (
        !(await write(() =>
          store.saveRun({ runId, fence, patch: { reservation: reservation!, lastSeq: seq + 1 } }),
        ))
      ) {
        return done;
      }
      emit('cost.reserved', { amount: estimate, reservationId, breakdown });
    } catch (error) {
      stopped = true;
      failure = { error: toEngineError(error) };
      for (const node of nodes) if (status[node.index] === PENDING) status[node.index] = SKIPPED;
      void finish();
      return done;
    }
  }

  // Catch up captures a crash interrupted (the host's idempotency makes repeats free).
  for (const record of restoredDone.values()) {
    if (record.captured || record.reused !== undefined) {
      if (record.reused === undefined && reservation?.id !== undefined) captured += record.cost;
      continue;
    }
    const node = plan.byId.get(record.nodeId)!;
    if (!(await captureNode(node, record.cost, record))) return done;
  }
  if (stopped) return done;

  for (const node of restoredDone.keys()) unblockDependents(plan.byId.get(node)!);
  if (settled === n) void finish();
  else
    for (const node of nodes) if (status[node.index] === PENDING && remaining[node.index] === 0) launch(node);
  return done;
}

/** Lets the handle cancel a running execution. @internal */
export interface RunControl {
  /** A cancel requested before the execution began. */
  requested: string | undefined;
  cancel: (reason: string) => void;
}

import { EventEmitter } from 'eventemitter3';
import { checkCheckpointFormat } from '../checkpoint/check-checkpoint-format.ts';
import {
  CHECKPOINT_FORMAT_VERSION,
  type NodeRecord,
  type ReservationRecord,
  type RunRecord,
  type RunSnapshot,
} from '../checkpoint/checkpoint-records.ts';
import type { CheckpointStore } from '../checkpoint/checkpoint-store.ts';
import { createMemoryCheckpointStore } from '../checkpoint/memory-checkpoint-store.ts';
import { type CostEstimate, estimatePlan } from '../cost/estimate-cost.ts';
import { EngineError } from '../errors/engine-error.ts';
import { GraphValidationError } from '../errors/graph-validation-error.ts';
import { toEngineError } from '../errors/to-engine-error.ts';
import type { RunEmitterEvents, RunEvent } from '../events/run-events.ts';
import { analyzeGraph } from '../graph/analyze-graph.ts';
import type { ExecutionPlan } from '../graph/execution-plan.ts';
import { type GraphValidationResult, validateGraph } from '../graph/validate-graph.ts';
import { newRunId, RunId } from '../ids/ids.ts';
import type { NodeDefinition } from '../node/node-definition.ts';
import type { NodeRegistry } from '../node/node-registry.ts';
import { DEFAULT_RETRY_POLICY } from '../node/retry-policy.ts';
import type { EngineOptions } from './engine-options.ts';
import { createKeyLimits } from './key-limits.ts';
import { planReuse } from './plan-reuse.ts';
import {
  estimateUnfinished,
  executeRun,
  type RunControl,
  type RunEnvironment,
  type RunStart,
} from './run-execution.ts';
import { createRunHandle, type RunHandle } from './run-handle.ts';
import type { RunOutcome } from './run-outcome.ts';

/** Options of one run. */
export interface StartOptions {
  /** The run's id. Default: a new random id. */
  readonly runId?: string;
  /** Aborting it cancels the run. */
  readonly signal?: AbortSignal;
  /** Receives every event of this run, from `run.started` on. */
  readonly onEvent?: (event: RunEvent) => void;
  /**
   * A credit hold the host already placed for this run, as a SaaS does when it accepts a request
   * (and answers "not enough credits" before anything runs). The engine stores it with the run's
   * first checkpoint, announces it with `cost.reserved`, captures each paid node against it and
   * releases what is left at the end, without calling `billing.reserve`: one checkpoint write
   * fewer before the first node. `amount` defaults to the engine's estimate of what the run will
   * execute (a rerun's reused nodes excluded), which is what `billing.reserve` would be asked for.
   * Needs the engine's `billing` hooks. Not for `resume`: a resumed run keeps the hold it stored.
   */
  readonly reservation?: { readonly id: string; readonly amount?: number };
}

/** Options of a resumed run. */
export interface ResumeOptions extends Omit<StartOptions, 'runId' | 'reservation'> {
  /**
   * The last event sequence number the host has stored for the run. Events of the resumed run
   * continue after it (or after the last one stored with a checkpoint, whichever is higher).
   */
  readonly lastSeq?: number;
}

/** What to rerun: a new run that reuses the outputs of an earlier one, except from the given nodes on. */
export interface RerunArgs {
  /** The earlier run. */
  readonly runId: string;
  /** The nodes to run again; everything downstream of them runs again too. */
  readonly from: readonly string[];
  /** A changed graph (e.g. a new video duration). Default: the earlier run's graph. */
  readonly graph?: unknown;
}

/** A workflow engine bound to a registry, a store and host hooks. */
export interface Engine<TDefs extends NodeDefinition.Any = NodeDefinition.Any> {
  readonly registry: NodeRegistry<TDefs>;
  readonly store: CheckpointStore;
  /** Validates a graph against the registry, returning every issue. */
  validate(graph: unknown): GraphValidationResult;
  /** Estimates a graph's cost in credits. Throws `GraphValidationError` for an invalid graph. */
  estimateCost(graph: unknown): CostEstimate;
  /** Starts a run. Throws `GraphValidationError` for an invalid graph: it never starts. */
  start(graph: unknown, options?: StartOptions): RunHandle;
  /** Starts a run and waits for its outcome. Rejects with `GraphValidationError` for an invalid graph. */
  run(graph: unknown, options?: StartOptions): Promise<RunOutcome>;
  /** Resumes a stored run: completed nodes are not run again; their outputs feed the rest. */
  resume(runId: string, options?: ResumeOptions): RunHandle;
  /** Starts a new run reusing an earlier run's outputs upstream of `from`. */
  rerun(args: RerunArgs, options?: StartOptions): RunHandle;
}

/**
 * Creates an engine.
 *
 * @example
 * ```ts
 * import { createEngine, createNodeRegistry, defineNode } from '@vidgenie/engine';
 * import { z } from 'zod';
 * const hello = defineNode({
 *   type: 'hello', version: 1, input: z.object({}), output: z.object({ text: z.string() }),
 *   config: z.object({ name: z.string() }), run: ({ config }) => ({ text: `Hello ${config.name}` }),
 * });
 * const engine = createEngine({ registry: createNodeRegistry([hello]) });
 * const outcome = await engine.run({ version: 1, nodes: [{ id: 'a', type: 'hello', config: { name: 'Ada' } }], edges: [] });
 * if (outcome.status === 'completed') console.log(outcome.outputs.a); // { text: 'Hello Ada' }
 * ```
 */
export function createEngine<TDefs extends NodeDefinition.Any>(options: EngineOptions<TDefs>): Engine<TDefs> {
  const store = options.store ?? createMemoryCheckpointStore();
  const env: RunEnvironment = {
    options: options as EngineOptions,
    store,
    keys: createKeyLimits(options.keyConcurrency),
    retry: { ...DEFAULT_RETRY_POLICY, ...options.retry },
    concurrency: options.concurrency ?? 8,
    failurePolicy: options.failurePolicy ?? 'finish-branches',
    random: options.random ?? Math.random,
  };
  const registry = options.registry as NodeRegistry;

  const compile = (graph: unknown): ExecutionPlan => {
    const analysis = analyzeGraph(graph, registry);
    if (!analysis.ok) throw new GraphValidationError(analysis.issues);
    return analysis.plan;
  };

  /** Wires a handle to an execution that `begin` starts once the run's starting point is known. */
  const launch = (
    runId: RunId,
    runOptions: StartOptions,
    begin: () => Promise<RunStart | RunOutcome>,
  ): RunHandle => {
    const emitter = new EventEmitter<RunEmitterEvents>();
    if (runOptions.onEvent !== undefined) emitter.on('event', runOptions.onEvent);
    const control: RunControl = {
      requested: undefined,
      cancel: (reason) => {
        control.requested ??= reason;
      },
      abandoned: false,
      abandon: () => {
        control.abandoned = true;
      },
    };
    const result = (async (): Promise<RunOutcome> => {
      try {
        const start = await begin();
        if ('status' in start) return start;
        return await executeRun({ env, start, emitter, control });
      } catch (error) {
        return failedOutcome(runId, toEngineError(error));
      }
    })();
    const signal = runOptions.signal;
    if (signal !== undefined) {
      const onAbort = () => control.cancel(abortReason(signal));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      void result.finally(() => signal.removeEventListener('abort', onAbort));
    }
    return createRunHandle({
      runId,
      emitter,
      result,
      cancel: (reason) => control.cancel(reason),
      abandon: () => control.abandon(),
    });
  };

  /** Checks a start's options before anything is stored: a mistake is the caller's, thrown at once. */
  const checkStartOptions = (runOptions: StartOptions): void => {
    const given = runOptions.reservation;
    if (given === undefined) return;
    if (options.billing === undefined)
      throw new TypeError(
        "A run started with a reservation needs the engine's `billing` hooks to capture against it.",
      );
    if (typeof given.id !== 'string' || given.id === '')
      throw new TypeError("A run's `reservation.id` must be the host's id of the hold, a non-empty string.");
    if (given.amount !== undefined && !(Number.isFinite(given.amount) && given.amount >= 0))
      throw new TypeError(
        `A run's \`reservation.amount\` must be a finite number of credits, 0 or more (got ${given.amount}).`,
      );
  };

  const create = async (args: {
    readonly runId: RunId;
    readonly plan: ExecutionPlan;
    readonly nodes: readonly NodeRecord[];
    readonly parentRunId?: string;
    readonly bypassCache?: ReadonlySet<string>;
    readonly reservation?: StartOptions['reservation'];
  }): Promise<RunStart> => {
    const now = Date.now();
    const reservation: ReservationRecord | undefined =
      args.reservation === undefined
        ? undefined
        : {
            id: args.reservation.id,
            amount: args.reservation.amount ?? estimateUnfinished(args.plan, args.nodes),
          };
    const run: RunRecord = {
      version: CHECKPOINT_FORMAT_VERSION,
      runId: args.runId,
      graph: args.plan.graph,
      status: 'running',
      createdAt: now,
      updatedAt: now,
      lastSeq: 0,
      ...(args.parentRunId === undefined ? {} : { parentRunId: args.parentRunId }),
      ...(reservation === undefined ? {} : { reservation }),
    };
    const { fence } = await store.createRun({ run, nodes: args.nodes });
    return {
      runId: args.runId,
      plan: args.plan,
      fence,
      restored: args.nodes,
      reservation,
      announceReservation: reservation !== undefined,
      lastSeq: 0,
      resumed: false,
      ...(args.bypassCache === undefined ? {} : { bypassCache: args.bypassCache }),
    };
  };

  /** An ended run: repeat a release a crash may have interrupted, then return the stored outcome. */
  const settleEnded = async (snapshot: RunSnapshot): Promise<RunOutcome> => {
    const { run } = snapshot;
    const reservationId = run.reservation?.id;
    if (run.releasePending === true && options.billing !== undefined && reservationId !== undefined) {
      const claimed = await store.claimRun({ runId: run.runId });
      const amount = claimed.run.released ?? 0;
      await options.billing.release({
        runId: run.runId,
        reservationId,
        amount,
        idempotencyKey: `${run.runId}:release`,
      });
      await store.saveRun({ runId: run.runId, fence: claimed.fence, patch: { releasePending: false } });
    }
    return storedOutcome(snapshot);
  };

  const engine: Engine<TDefs> = {
    registry: options.registry,
    store,
    validate: (graph) => validateGraph(graph, registry),
    estimateCost: (graph) => estimatePlan(compile(graph)),
    start(graph, runOptions = {}) {
      const plan = compile(graph);
      checkStartOptions(runOptions);
      const runId = runOptions.runId === undefined ? newRunId() : RunId.parse(runOptions.runId);
      return launch(runId, runOptions, () =>
        create({ runId, plan, nodes: [], reservation: runOptions.reservation }),
      );
    },
    run: async (graph, runOptions) => engine.start(graph, runOptions).result,
    resume(id, runOptions = {}) {
      const runId = RunId.parse(id);
      return launch(runId, runOptions, async () => {
        const existing = await store.loadRun({ runId });
        if (existing === undefined)
          throw new EngineError('RUN_NOT_FOUND', `No run with id ${runId} to resume.`);
        checkCheckpointFormat(existing.run);
        if (existing.run.status !== 'running') return settleEnded(existing);
        const snapshot = await store.claimRun({ runId });
        if (snapshot.run.status !== 'running') return settleEnded(snapshot);
        return {
          runId,
          plan: compile(snapshot.run.graph),
          fence: snapshot.fence,
          restored: snapshot.nodes,
          reservation: snapshot.run.reservation,
          lastSeq: Math.max(snapshot.run.lastSeq, runOptions.lastSeq ?? 0),
          resumed: true,
        };
      });
    },
    rerun(args, runOptions = {}) {
      const given = args.graph === undefined ? undefined : compile(args.graph);
      checkStartOptions(runOptions);
      const runId = runOptions.runId === undefined ? newRunId() : RunId.parse(runOptions.runId);
      return launch(runId, runOptions, async () => {
        const parent = await store.loadRun({ runId: args.runId });
        if (parent === undefined)
          throw new EngineError('RUN_NOT_FOUND', `No run with id ${args.runId} to rerun.`);
        const plan = given ?? compile(parent.run.graph);
        const unknown = args.from.filter((id) => !plan.byId.has(id));
        if (unknown.length > 0) {
          throw new EngineError(
            'GRAPH_INVALID',
            `Cannot rerun from ${unknown.join(', ')}: not in the graph.`,
            {
              retryable: false,
            },
          );
        }
        const { reused, forced } = planReuse({ plan, parent, from: new Set(args.from) });
        return create({
          runId,
          plan,
          nodes: reused,
          parentRunId: args.runId,
          bypassCache: forced,
          reservation: runOptions.reservation,
        });
      });
    },
  };
  return Object.freeze(engine);
}

function failedOutcome(runId: string, error: EngineError): RunOutcome {
  return {
    status: 'failed',
    runId,
    error,
    outputs: {},
    cost: { estimated: 0, reserved: 0, captured: 0, released: 0, saved: 0 },
  };
}

/** The outcome of a run that already ended, rebuilt from the store. */
function storedOutcome(snapshot: RunSnapshot): RunOutcome {
  const { run } = snapshot;
  const outputs: Record<string, unknown> = {};
  let captured = 0;
  let estimated = 0;
  for (const node of snapshot.nodes) {
    if (node.status === 'completed') outputs[node.nodeId] = node.output;
    if (node.status === 'completed' && node.captured && run.reservation?.id !== undefined)
      captured += node.cost;
    estimated += node.cost;
  }
  const reserved = run.reservation?.amount ?? 0;
  const cost = run.cost ?? { estimated, reserved, captured, released: run.released ?? 0, saved: 0 };
  const base = { runId: run.runId, outputs, cost };
  if (run.status === 'completed') return { ...base, status: 'completed' };
  if (run.status === 'cancelled')
    return { ...base, status: 'cancelled', reason: run.cancelReason ?? 'cancelled' };
  const error = new EngineError(run.error?.code ?? 'INTERNAL', run.error?.message ?? 'The run failed.', {
    retryable: false,
  });
  return {
    ...base,
    status: 'failed',
    error,
    ...(run.failedNodeId === undefined ? {} : { nodeId: run.failedNodeId }),
  };
}

function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (typeof reason === 'string') return reason;
  if (reason instanceof Error) return reason.message;
  return 'aborted';
}

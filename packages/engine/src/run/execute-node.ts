import { EngineError } from '../errors/engine-error.ts';
import { RetryAfterError } from '../errors/retry-after-error.ts';
import { SchemaValidationError } from '../errors/schema-validation-error.ts';
import { toEngineError } from '../errors/to-engine-error.ts';
import type { RunEventMap, RunEventType } from '../events/run-events.ts';
import type { PlanNode } from '../graph/execution-plan.ts';
import type { RunId } from '../ids/ids.ts';
import type { DurableState, NodeContext, NodeSecrets } from '../node/node-context.ts';
import { backoffDelay, type RetryPolicy } from '../node/retry-policy.ts';
import type { SecretsResolver } from './engine-options.ts';
import { sleep } from './sleep.ts';

/** What the scheduler lends a running node. @internal */
export interface NodeRuntime {
  readonly runId: RunId;
  /** Aborted when the run is cancelled or stopped. */
  readonly signal: AbortSignal;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number | undefined;
  readonly random: () => number;
  readonly secrets: SecretsResolver | undefined;
  readonly services: unknown;
  isStopped(): boolean;
  emit<K extends RunEventType>(type: K, payload: RunEventMap[K]): void;
  /** Persists a node's durable state (as a `running` checkpoint). */
  saveState(args: {
    readonly node: PlanNode;
    readonly attempt: number;
    readonly state: unknown;
  }): Promise<void>;
}

/** The result of running one node through its attempts. @internal */
export type NodeExecution =
  | { readonly ok: true; readonly output: unknown; readonly attempt: number; readonly state: unknown }
  | { readonly ok: false; readonly error: EngineError; readonly attempt: number }
  | { readonly ok: false; readonly stopped: true };

/**
 * Runs a node: parses its input, then attempts `run` under the retry policy and timeout until it
 * succeeds, fails for good or the run stops. Never throws. @internal
 */
export async function executeNode(args: {
  readonly node: PlanNode;
  readonly input: unknown;
  readonly state: unknown;
  readonly runtime: NodeRuntime;
}): Promise<NodeExecution> {
  const { node, runtime } = args;
  const { def } = node;
  const parsedInput = def.input.safeParse(args.input);
  if (!parsedInput.success) {
    const error = SchemaValidationError.fromZod({
      target: 'input',
      error: parsedInput.error,
      nodeType: def.type,
    });
    return { ok: false, error, attempt: 1 };
  }
  let state = args.state;
  if (state !== undefined && def.state !== undefined) {
    const parsedState = def.state.safeParse(state);
    if (!parsedState.success) {
      const error = SchemaValidationError.fromZod({
        target: 'state',
        error: parsedState.error,
        nodeType: def.type,
      });
      return { ok: false, error, attempt: 1 };
    }
    state = parsedState.data;
  }
  const policy = def.retry === undefined ? runtime.retry : { ...runtime.retry, ...def.retry };
  const timeoutMs = def.timeoutMs ?? runtime.timeoutMs;

  const box: StateBox = { state };
  for (let attempt = 1; ; attempt++) {
    if (runtime.isStopped()) return { ok: false, stopped: true };
    runtime.emit('node.started', { nodeId: node.id, nodeType: def.type, attempt });
    // A listener of node.started may have cancelled the run.
    if (runtime.isStopped()) return { ok: false, stopped: true };
    try {
      const pending =
        timeoutMs === undefined
          ? def.run(
              new AttemptContext(node, runtime, parsedInput.data, attempt, box, runtime.signal) as never,
            )
          : withTimeout({
              node,
              runtime,
              timeoutMs,
              run: (signal) =>
                def.run(new AttemptContext(node, runtime, parsedInput.data, attempt, box, signal) as never),
            });
      // A synchronous result skips a microtask hop.
      const raw: unknown = isPromiseLike(pending) ? await pending : pending;
      if (runtime.isStopped()) return { ok: false, stopped: true };
      const parsedOutput = def.output.safeParse(raw);
      if (!parsedOutput.success) {
        const error = SchemaValidationError.fromZod({
          target: 'output',
          error: parsedOutput.error,
          nodeType: def.type,
        });
        return { ok: false, error, attempt };
      }
      return { ok: true, output: parsedOutput.data, attempt, state: box.state };
    } catch (thrown) {
      if (runtime.isStopped()) return { ok: false, stopped: true };
      const error = toEngineError(thrown);
      if (!error.retryable || attempt >= policy.maxAttempts) return { ok: false, error, attempt };
      const delayMs =
        error instanceof RetryAfterError
          ? Math.min(error.afterMs, policy.maxDelayMs)
          : backoffDelay({ policy, attempt, random: runtime.random() });
      runtime.emit('node.retrying', { nodeId: node.id, attempt, delayMs, error: error.toJSON() });
      await sleep(delayMs, runtime.signal);
    }
  }
}

/** The durable state of one node, shared by its attempts. */
interface StateBox {
  state: unknown;
}

/**
 * The context of one attempt. A class, not an object literal with closures: one allocation per
 * attempt on the engine's hot path, with the methods on the prototype. Node code sees only the
 * `NodeContext` interface.
 */
class AttemptContext implements NodeContext<unknown, unknown, unknown, unknown> {
  readonly config: unknown;
  readonly runId: RunId;
  readonly nodeId: PlanNode['id'];
  readonly services: unknown;
  readonly #node: PlanNode;
  readonly #runtime: NodeRuntime;
  readonly #box: StateBox;
  #secrets: NodeSecrets | undefined;
  #state: DurableState<unknown> | undefined;
  #progress: ((fraction: number, message?: string) => void) | undefined;

  constructor(
    node: PlanNode,
    runtime: NodeRuntime,
    readonly input: unknown,
    readonly attempt: number,
    box: StateBox,
    readonly signal: AbortSignal,
  ) {
    this.#node = node;
    this.#runtime = runtime;
    this.#box = box;
    this.config = node.config;
    this.runId = runtime.runId;
    this.nodeId = node.id;
    this.services = runtime.services;
  }

  get secrets(): NodeSecrets {
    this.#secrets ??= { get: (name) => this.#secret(name) };
    return this.#secrets;
  }

  get state(): DurableState<unknown> {
    this.#state ??= { get: () => this.#box.state, set: (value) => this.#setState(value) };
    return this.#state;
  }

  /** A getter, so destructuring `{ progress }` works; the closure is made only when used. */
  get progress(): (fraction: number, message?: string) => void {
    this.#progress ??= (fraction, message) => {
      if (this.#runtime.isStopped()) return;
      const clamped = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
      this.#runtime.emit('node.progress', {
        nodeId: this.#node.id,
        fraction: clamped,
        ...(message === undefined ? {} : { message }),
      });
    };
    return this.#progress;
  }

  async #secret(name: string): Promise<string> {
    const value = await this.#runtime.secrets?.({
      runId: this.#runtime.runId,
      nodeId: this.#node.id,
      nodeType: this.#node.def.type,
      name,
      signal: this.signal,
    });
    if (value === undefined || value === '') {
      throw new EngineError(
        'MISSING_SECRET',
        `No secret "${name}" is available for node "${this.#node.id}".`,
        {
          retryable: false,
        },
      );
    }
    return value;
  }

  async #setState(value: unknown): Promise<void> {
    this.#box.state = value;
    await this.#runtime.saveState({ node: this.#node, attempt: this.attempt, state: value });
  }
}

async function withTimeout(args: {
  readonly node: PlanNode;
  readonly runtime: NodeRuntime;
  readonly timeoutMs: number;
  readonly run: (signal: AbortSignal) => unknown;
}): Promise<unknown> {
  const controller = new AbortController();
  const forward = () => controller.abort(args.runtime.signal.reason);
  args.runtime.signal.addEventListener('abort', forward, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new EngineError(
        'TIMEOUT',
        `Node "${args.node.id}" timed out after ${args.timeoutMs} ms.`,
        {
          retryable: true,
        },
      );
      controller.abort(error);
      reject(error);
    }, args.timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(() => args.run(controller.signal)), timedOut]);
  } finally {
    clearTimeout(timer);
    args.runtime.signal.removeEventListener('abort', forward);
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

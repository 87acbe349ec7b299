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
  /** Tells the host's `onNodeError` hook about a failed attempt. */
  reportError(node: PlanNode, attempt: number, error: EngineError, retrying: boolean): void;
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
 * succeeds, fails for good or the run stops. Never throws, except what an event listener throws.
 * Synchronous while `run` returns values synchronously (no promise, no microtask hop); a promise
 * only once an attempt returns one, times out or waits to retry. @internal
 */
export function executeNode(args: {
  readonly node: PlanNode;
  readonly input: unknown;
  readonly state: unknown;
  readonly runtime: NodeRuntime;
}): NodeExecution | Promise<NodeExecution> {
  const { node } = args;
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
  return new NodeAttempts(node, args.runtime, parsedInput.data, state).from(1);
}

const STOPPED: NodeExecution = Object.freeze({ ok: false, stopped: true });

/** The attempts of one node: its policy, its parsed input and the durable state they share. */
class NodeAttempts {
  readonly #node: PlanNode;
  readonly #runtime: NodeRuntime;
  readonly #input: unknown;
  readonly #policy: RetryPolicy;
  readonly #timeoutMs: number | undefined;
  readonly #box: StateBox;

  constructor(node: PlanNode, runtime: NodeRuntime, input: unknown, state: unknown) {
    const { def } = node;
    this.#node = node;
    this.#runtime = runtime;
    this.#input = input;
    this.#policy = def.retry === undefined ? runtime.retry : { ...runtime.retry, ...def.retry };
    this.#timeoutMs = def.timeoutMs ?? runtime.timeoutMs;
    this.#box = { state };
  }

  /** Runs attempts from `attempt` on. */
  from(attempt: number): NodeExecution | Promise<NodeExecution> {
    const runtime = this.#runtime;
    const { def } = this.#node;
    if (runtime.isStopped()) return STOPPED;
    runtime.emit('node.started', { nodeId: this.#node.id, nodeType: def.type, attempt });
    // A listener of node.started may have cancelled the run.
    if (runtime.isStopped()) return STOPPED;
    let pending: unknown;
    try {
      pending = this.#start(attempt);
    } catch (thrown) {
      return this.#afterThrow(thrown, attempt);
    }
    return isPromiseLike(pending) ? this.#await(pending, attempt) : this.#settle(pending, attempt);
  }

  /** Calls `run` (under the timeout, if any); returns its result or promise. */
  #start(attempt: number): unknown {
    const { def } = this.#node;
    const timeoutMs = this.#timeoutMs;
    if (timeoutMs === undefined) {
      return def.run(this.#context(attempt, this.#runtime.signal) as never);
    }
    return withTimeout({
      node: this.#node,
      runtime: this.#runtime,
      timeoutMs,
      run: (signal) => def.run(this.#context(attempt, signal) as never),
    });
  }

  #context(attempt: number, signal: AbortSignal): AttemptContext {
    return new AttemptContext(this.#node, this.#runtime, this.#input, attempt, this.#box, signal);
  }

  async #await(pending: PromiseLike<unknown>, attempt: number): Promise<NodeExecution> {
    let raw: unknown;
    try {
      raw = await pending;
    } catch (thrown) {
      return this.#afterThrow(thrown, attempt);
    }
    return this.#settle(raw, attempt);
  }

  /** Checks what an attempt returned against the output schema. */
  #settle(raw: unknown, attempt: number): NodeExecution {
    if (this.#runtime.isStopped()) return STOPPED;
    const { def } = this.#node;
    const parsedOutput = def.output.safeParse(raw);
    if (!parsedOutput.success) {
      const error = SchemaValidationError.fromZod({
        target: 'output',
        error: parsedOutput.error,
        nodeType: def.type,
      });
      return { ok: false, error, attempt };
    }
    return { ok: true, output: parsedOutput.data, attempt, state: this.#box.state };
  }

  /** After an attempt threw: fails for good, or waits the retry delay and runs the next attempt. */
  #afterThrow(thrown: unknown, attempt: number): NodeExecution | Promise<NodeExecution> {
    const runtime = this.#runtime;
    const policy = this.#policy;
    if (runtime.isStopped()) return STOPPED;
    const error = toEngineError(thrown);
    if (!error.retryable || attempt >= policy.maxAttempts) return { ok: false, error, attempt };
    const delayMs =
      error instanceof RetryAfterError
        ? Math.min(error.afterMs, policy.maxDelayMs)
        : backoffDelay({ policy, attempt, random: runtime.random() });
    runtime.emit('node.retrying', { nodeId: this.#node.id, attempt, delayMs, error: error.toJSON() });
    runtime.reportError(this.#node, attempt, error, true);
    return sleep(delayMs, runtime.signal).then(() => this.from(attempt + 1));
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
  /** The node's last progress report (the last message given), to drop repeats. */
  #lastProgress: { readonly fraction: number; readonly message: string | undefined } | undefined;

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

  /**
   * A getter, so destructuring `{ progress }` works; the closure is made only when used. A report
   * that changes nothing (the fraction of the node's last report, and no message or the same one,
   * as when a provider and its node both report 1) emits no event.
   */
  get progress(): (fraction: number, message?: string) => void {
    this.#progress ??= (fraction, message) => {
      if (this.#runtime.isStopped()) return;
      const clamped = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
      const last = this.#lastProgress;
      if (last?.fraction === clamped && (message === undefined || message === last.message)) return;
      this.#lastProgress = { fraction: clamped, message: message ?? last?.message };
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

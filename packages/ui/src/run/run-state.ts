import type { RunEvent, RunEventType } from '../graph/graph-types.ts';

/** A node's state on the canvas (the PRD's palette: idle grey, running blue, success green, failed red). */
export type NodeState = 'idle' | 'running' | 'success' | 'failed' | 'cached' | 'skipped' | 'cancelled';

/** What the canvas shows of one node during and after a run. */
export interface NodeRunState {
  readonly state: NodeState;
  /** From 0 to 1. */
  readonly progress: number;
  readonly message?: string;
  readonly startedAt?: number;
  readonly durationMs?: number;
  readonly cost?: number;
  readonly saved?: number;
  readonly output?: unknown;
  readonly error?: string;
  /** The technical facts of a failure, for the node's "details" toggle (never shown by default). */
  readonly failure?: NodeFailure;
}

/** What a `node.failed` event tells beyond its message: the engine's code and the provider's facts. */
export interface NodeFailure {
  /** The engine's error code, e.g. `NON_RETRYABLE` or `NODE_FAILED`. */
  readonly code: string;
  /** Whether another attempt could succeed (a transient failure rather than a refusal). */
  readonly retryable: boolean;
  /** The attempt that failed (1 for the first try): how many times the step was tried. */
  readonly attempts: number;
  /** The provider that failed (`details.providerId`), when the error names one. */
  readonly providerId?: string;
  /** Why the provider call failed (`details.failure`, e.g. `invalid_key`), when known. */
  readonly reason?: string;
}

export type RunPhase = 'idle' | 'starting' | 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

/** A run as the events told it so far. */
export interface RunState {
  readonly runId: string | null;
  readonly phase: RunPhase;
  readonly nodes: Readonly<Record<string, NodeRunState>>;
  readonly lastSeq: number;
  readonly captured: number;
  readonly error?: string;
}

export const IDLE_RUN: RunState = { runId: null, phase: 'idle', nodes: {}, lastSeq: 0, captured: 0 };
export const IDLE_NODE: NodeRunState = { state: 'idle', progress: 0 };

/** Every event type the server streams (checked against the engine's union at compile time). */
export const RUN_EVENT_TYPES = [
  'run.started',
  'node.started',
  'node.progress',
  'node.retrying',
  'node.completed',
  'node.cached',
  'node.failed',
  'node.cancelled',
  'node.skipped',
  'cost.reserved',
  'cost.captured',
  'cost.released',
  'run.completed',
  'run.failed',
  'run.cancelled',
] as const satisfies readonly RunEventType[];
type Missing = Exclude<RunEventType, (typeof RUN_EVENT_TYPES)[number]>;
const allListed: [Missing] extends [never] ? true : Missing = true;
void allListed;

export const isTerminalEvent = (event: RunEvent): boolean =>
  event.type === 'run.completed' || event.type === 'run.failed' || event.type === 'run.cancelled';

/** Narrows a parsed SSE payload to a run event. */
export function isRunEvent(value: unknown): value is RunEvent {
  if (typeof value !== 'object' || value === null) return false;
  const { type, seq } = value as { type?: unknown; seq?: unknown };
  return (
    typeof type === 'string' &&
    (RUN_EVENT_TYPES as readonly string[]).includes(type) &&
    typeof seq === 'number'
  );
}

function patchNode(state: RunState, nodeId: string, patch: Partial<NodeRunState>): RunState {
  const node = state.nodes[nodeId] ?? IDLE_NODE;
  return { ...state, nodes: { ...state.nodes, [nodeId]: { ...node, ...patch } } };
}

/**
 * Folds one event into the run state. Events already seen (a replay after a reconnect) change
 * nothing, so the stream can be followed from the start at any time.
 */
export function applyRunEvent(state: RunState, event: RunEvent): RunState {
  if (event.seq <= state.lastSeq) return state;
  const next: RunState = { ...state, lastSeq: event.seq };
  switch (event.type) {
    case 'run.started':
      return { ...next, phase: 'running' };
    case 'node.started':
      return patchNode(next, event.nodeId, { state: 'running', progress: 0, startedAt: event.at });
    case 'node.progress':
      return patchNode(next, event.nodeId, {
        state: 'running',
        progress: event.fraction,
        ...(event.message === undefined ? {} : { message: event.message }),
      });
    case 'node.retrying':
      return patchNode(next, event.nodeId, { message: `Retrying: ${event.error.message}` });
    case 'node.completed':
      return patchNode(next, event.nodeId, {
        state: 'success',
        progress: 1,
        durationMs: event.durationMs,
        cost: event.cost,
        output: event.output,
      });
    case 'node.cached':
      return patchNode(next, event.nodeId, {
        state: 'cached',
        progress: 1,
        saved: event.saved,
        output: event.output,
      });
    case 'node.failed':
      return patchNode(next, event.nodeId, {
        state: 'failed',
        error: event.error.message,
        failure: failureOf(event.error, event.attempt),
      });
    case 'node.cancelled':
      return patchNode(next, event.nodeId, { state: 'cancelled' });
    case 'node.skipped':
      return patchNode(next, event.nodeId, { state: 'skipped' });
    case 'cost.reserved':
    case 'cost.released':
      return next;
    case 'cost.captured':
      return { ...next, captured: next.captured + event.amount };
    case 'run.completed':
      return { ...next, phase: 'completed', captured: event.captured };
    case 'run.failed':
      return { ...next, phase: 'failed', error: event.error.message };
    case 'run.cancelled':
      return { ...next, phase: 'cancelled' };
    default:
      return assertNever(event);
  }
}

/** The details toggle's facts of a failed node, from the event's error (its `details` read defensively). */
export function failureOf(
  error: {
    readonly code: string;
    readonly retryable: boolean;
    readonly details?: Readonly<Record<string, unknown>>;
  },
  attempt: number,
): NodeFailure {
  const providerId = error.details?.providerId;
  const reason = error.details?.failure;
  return {
    code: error.code,
    retryable: error.retryable,
    attempts: attempt,
    ...(typeof providerId === 'string' ? { providerId } : {}),
    ...(typeof reason === 'string' ? { reason } : {}),
  };
}

function assertNever(value: never): never {
  throw new Error(`Unexpected event: ${JSON.stringify(value)}`);
}

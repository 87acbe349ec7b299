import type { EngineErrorJSON } from '../errors/engine-error.ts';

/** Why a node did not run. */
export type SkipReason = 'upstream-failed' | 'run-stopped' | 'cancelled';

/** The payload of each run event, by type. Every event also carries {@link RunEventBase}. */
export interface RunEventMap {
  'run.started': { readonly resumed: boolean; readonly nodeCount: number; readonly estimatedCost: number };
  'node.started': { readonly nodeId: string; readonly nodeType: string; readonly attempt: number };
  'node.progress': {
    readonly nodeId: string;
    readonly fraction: number;
    readonly message?: string;
  };
  'node.retrying': {
    readonly nodeId: string;
    readonly attempt: number;
    readonly delayMs: number;
    readonly error: EngineErrorJSON;
  };
  'node.completed': {
    readonly nodeId: string;
    readonly nodeType: string;
    readonly output: unknown;
    readonly durationMs: number;
    readonly cost: number;
    readonly attempt: number;
  };
  'node.cached': {
    readonly nodeId: string;
    readonly nodeType: string;
    readonly output: unknown;
    /** Credits not spent thanks to the reuse. */
    readonly saved: number;
    readonly source: 'cache' | 'rerun';
  };
  'node.failed': {
    readonly nodeId: string;
    readonly nodeType: string;
    readonly attempt: number;
    readonly error: EngineErrorJSON;
  };
  'node.cancelled': { readonly nodeId: string; readonly nodeType: string; readonly reason: string };
  'node.skipped': {
    readonly nodeId: string;
    readonly nodeType: string;
    readonly reason: SkipReason;
    /** The failed node that caused the skip, for `upstream-failed`. */
    readonly causeNodeId?: string;
  };
  'cost.reserved': {
    readonly amount: number;
    readonly reservationId?: string;
    readonly breakdown: Readonly<Record<string, number>>;
  };
  'cost.captured': { readonly nodeId: string; readonly amount: number };
  'cost.released': { readonly amount: number };
  'run.completed': { readonly durationMs: number; readonly captured: number; readonly saved: number };
  'run.failed': { readonly error: EngineErrorJSON; readonly nodeId?: string };
  'run.cancelled': { readonly reason: string };
}

/** A run event type. */
export type RunEventType = keyof RunEventMap;

/** The fields every run event carries. */
export interface RunEventBase<TType extends RunEventType = RunEventType> {
  readonly type: TType;
  readonly runId: string;
  /** Per run, gap-free, starting at 1 and continuing across resumes: a client resumes a stream from it. */
  readonly seq: number;
  /** Milliseconds since the epoch. */
  readonly at: number;
}

/** One event of a given type. */
export type RunEventOf<TType extends RunEventType> = RunEventBase<TType> & RunEventMap[TType];

/** Any run event: a union discriminated by `type`. */
export type RunEvent = { [K in RunEventType]: RunEventOf<K> }[RunEventType];

/** The eventemitter3 event map of a run: one channel per type, plus `event` for all of them. */
export type RunEmitterEvents = { [K in RunEventType]: [event: RunEventOf<K>] } & { event: [event: RunEvent] };

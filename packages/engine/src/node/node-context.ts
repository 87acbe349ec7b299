import type { NodeId, RunId } from '../ids/ids.ts';

/**
 * Secrets a node may read, resolved by the host just in time (the engine never stores them).
 * `get` rejects with a `MISSING_SECRET` error when the host has no value.
 */
export interface NodeSecrets {
  get(name: string): Promise<string>;
}

/**
 * A small durable value persisted with the node's checkpoint. A node stores what it needs to
 * re-attach to work it started (a provider job id) before waiting on it; a resumed node reads it back.
 */
export interface DurableState<TState> {
  /** The stored value, or `undefined` if the node never set one. */
  get(): TState | undefined;
  /** Stores the value; resolves once it is durable in the checkpoint store. */
  set(value: TState): Promise<void>;
}

/**
 * Everything a node's `run` receives, in one object.
 *
 * @typeParam TInput - the parsed input (port name to value)
 * @typeParam TConfig - the parsed config
 * @typeParam TServices - host-provided services the node declared
 * @typeParam TState - the node's durable state
 */
export interface NodeContext<TInput, TConfig, TServices, TState> {
  /** The parsed input: one key per input port. */
  readonly input: TInput;
  /** The parsed config. */
  readonly config: TConfig;
  /** Aborted when the run is cancelled, the attempt times out or the run stops after a failure. */
  readonly signal: AbortSignal;
  /** The attempt number, starting at 1. */
  readonly attempt: number;
  readonly runId: RunId;
  readonly nodeId: NodeId;
  /** Reports progress: `fraction` in [0, 1] (clamped), with an optional message for people. */
  progress(fraction: number, message?: string): void;
  /** Secrets provided by the host. */
  readonly secrets: NodeSecrets;
  /** Services provided by the host (storage, HTTP clients). */
  readonly services: TServices;
  /** Durable state, persisted with the checkpoint. */
  readonly state: DurableState<TState>;
}

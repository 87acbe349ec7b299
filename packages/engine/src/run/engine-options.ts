import type { OutputCache } from '../cache/output-cache.ts';
import type { CheckpointStore } from '../checkpoint/checkpoint-store.ts';
import type { BillingHooks } from '../cost/billing-hooks.ts';
import type { EngineError } from '../errors/engine-error.ts';
import type { RunEvent } from '../events/run-events.ts';
import type { NodeDefinition, ObjectSchema } from '../node/node-definition.ts';
import type { NodeRegistry } from '../node/node-registry.ts';
import type { RetryPolicy } from '../node/retry-policy.ts';

/** What to do with the rest of the run when a node fails for good. */
export type FailurePolicy =
  /** Skip what depends on the failed node; let independent branches finish. */
  | 'finish-branches'
  /** Stop at once: abort running nodes and start nothing new. */
  | 'stop-all';

/** What a host's secrets resolver receives. */
export interface SecretRequest {
  readonly runId: string;
  readonly nodeId: string;
  readonly nodeType: string;
  readonly name: string;
  readonly signal: AbortSignal;
}

/** Resolves a secret by name for a node, just in time; `undefined` when the host has none. */
export type SecretsResolver = (args: SecretRequest) => Promise<string | undefined> | string | undefined;

/**
 * A node attempt that failed, as {@link EngineHooks.onNodeError} receives it: the error object
 * itself, whose `cause` (the provider SDK's or the system's error) events never carry.
 */
export interface NodeErrorReport {
  readonly runId: string;
  readonly nodeId: string;
  readonly nodeType: string;
  /** The attempt that failed, from 1. */
  readonly attempt: number;
  /** The error, `cause` kept. It may hold secrets (a request's headers): log with care. */
  readonly error: EngineError;
  /** True when another attempt follows (after `node.retrying`); false when the node failed for good. */
  readonly retrying: boolean;
}

/** Optional hooks. Do not mutate their arguments. */
export interface EngineHooks {
  /** Called for every event of every run, after the run's own listeners. */
  onEvent?(event: RunEvent): void;
  /**
   * Called for every failed node attempt, retried or final, with the error object: for logs and
   * metrics (events carry only the error's code and message). What it throws is ignored.
   *
   * @example
   * ```ts
   * import { createEngine, createNodeRegistry } from '@vidgenie/engine';
   * const engine = createEngine({
   *   registry: createNodeRegistry([]),
   *   hooks: {
   *     onNodeError: ({ runId, nodeId, attempt, retrying, error }) =>
   *       console.warn({ runId, nodeId, attempt, retrying, code: error.code, cause: error.cause }),
   *   },
   * });
   * ```
   */
  onNodeError?(report: NodeErrorReport): void;
}

/** The union of the services the nodes of a registry need, as an intersection. */
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void
  ? I
  : never;
/** The services a registry's nodes need, as one object type. */
export type RequiredServices<TDefs> = UnionToIntersection<
  TDefs extends NodeDefinition<string, ObjectSchema, ObjectSchema, ObjectSchema, infer S>
    ? unknown extends S
      ? never
      : S
    : never
>;

/**
 * Host services handed to nodes (`ctx.services`): required when a registered node declares
 * services with `requireServices`, typed as the intersection of what they declare.
 */
export type ServicesOption<TDefs> =
  unknown extends RequiredServices<TDefs>
    ? { readonly services?: unknown }
    : { readonly services: RequiredServices<TDefs> };

/** Options of `createEngine`. */
export type EngineOptions<TDefs extends NodeDefinition.Any = NodeDefinition.Any> = EngineBaseOptions<TDefs> &
  ServicesOption<TDefs>;

/** Options of `createEngine` other than services. */
export interface EngineBaseOptions<TDefs extends NodeDefinition.Any = NodeDefinition.Any> {
  /** The node types the engine can run. */
  readonly registry: NodeRegistry<TDefs>;
  /** Where checkpoints go. Default: a new in-memory store. */
  readonly store?: CheckpointStore;
  /** Output cache: nodes whose type, version, config and inputs were seen before are not run again. */
  readonly cache?: OutputCache;
  /** Credit holds and captures. Without it, nothing is charged. */
  readonly billing?: BillingHooks;
  /** Resolves secrets (provider keys) for nodes. */
  readonly secrets?: SecretsResolver;
  /** How many nodes of one run may run at once. Default 8. */
  readonly concurrency?: number;
  /** Limits per concurrency key (see `NodeDefinition.concurrencyKey`): a number for every key, or per key. */
  readonly keyConcurrency?: number | ((key: string) => number | undefined);
  /** Retry policy defaults; nodes may override. */
  readonly retry?: Partial<RetryPolicy>;
  /** Default timeout of one node attempt, in ms; nodes may override. Default: none. */
  readonly nodeTimeoutMs?: number;
  /** Default `finish-branches`. */
  readonly failurePolicy?: FailurePolicy;
  readonly hooks?: EngineHooks;
  /** A random source in [0, 1) for retry jitter (tests make it deterministic). Default `Math.random`. */
  readonly random?: () => number;
}

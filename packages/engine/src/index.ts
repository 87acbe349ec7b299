/**
 * `@vidgenie/engine`: a typed, durable node-graph workflow engine. Define nodes with zod schemas,
 * validate graphs, run them under limits with retries, cancellation, events, cost estimates, credit
 * holds, checkpoints and resume. No IO of its own: it runs in Node and in browsers.
 *
 * @module
 */

export { cacheKeyOf } from './cache/cache-key.ts';
export { createMemoryOutputCache, type OutputCache } from './cache/output-cache.ts';
// Checkpoints and the output cache
export {
  CHECKPOINT_FORMAT_VERSION,
  type NodeRecord,
  type NodeStatus,
  type ReservationRecord,
  type RunPatch,
  type RunRecord,
  type RunSnapshot,
  type RunStatus,
} from './checkpoint/checkpoint-records.ts';
export type { CheckpointStore } from './checkpoint/checkpoint-store.ts';
export {
  createMemoryCheckpointStore,
  type MemoryCheckpointStoreOptions,
} from './checkpoint/memory-checkpoint-store.ts';
export type { BillingHooks } from './cost/billing-hooks.ts';
// Cost and billing
export { type CostEstimate, estimateCost, type NodeCost } from './cost/estimate-cost.ts';
export { EngineError, type EngineErrorJSON, type EngineErrorOptions } from './errors/engine-error.ts';
// Errors
export { ENGINE_ERROR_CODES, type EngineErrorCode } from './errors/engine-error-code.ts';
export { GraphValidationError } from './errors/graph-validation-error.ts';
export { InsufficientCreditsError } from './errors/insufficient-credits-error.ts';
export { NonRetryableError } from './errors/non-retryable-error.ts';
export { DuplicateNodeTypeError, UnknownNodeTypeError } from './errors/registry-errors.ts';
export { RetryAfterError } from './errors/retry-after-error.ts';
export {
  type SchemaIssue,
  type SchemaTarget,
  SchemaValidationError,
} from './errors/schema-validation-error.ts';
export { StaleFenceError } from './errors/stale-fence-error.ts';
export { toEngineError } from './errors/to-engine-error.ts';
// Events
export type {
  RunEmitterEvents,
  RunEvent,
  RunEventBase,
  RunEventMap,
  RunEventOf,
  RunEventType,
  SkipReason,
} from './events/run-events.ts';
export { GRAPH_ISSUE_CODES, type GraphIssue, type GraphIssueCode } from './graph/graph-issue.ts';
export { ANY_PORT_TYPE, arePortTypesCompatible, isOptionalPort, portTypeOf } from './graph/port-type.ts';
export { type GraphValidationResult, validateGraph } from './graph/validate-graph.ts';
// Graphs and validation
export {
  GRAPH_FORMAT_VERSION,
  GraphEdge,
  GraphNode,
  WorkflowGraph,
  type WorkflowGraphInput,
} from './graph/workflow-graph.ts';
export { wouldCreateCycle } from './graph/would-create-cycle.ts';
// Ids
export { EdgeId, NodeId, newRunId, PortId, ReservationId, RunId } from './ids/ids.ts';
// Nodes and the registry
export { defineNode } from './node/define-node.ts';
export type { DurableState, NodeContext, NodeSecrets } from './node/node-context.ts';
export {
  type InferNodeConfig,
  type InferNodeConfigInput,
  type InferNodeInput,
  type InferNodeOutput,
  type InferNodeServices,
  type NodeConfigArgs,
  type NodeDefinition,
  type ObjectSchema,
  requireServices,
  type ServiceDeclaration,
} from './node/node-definition.ts';
export { type AnyNodeOf, createNodeRegistry, type NodeRegistry } from './node/node-registry.ts';
export { backoffDelay, DEFAULT_RETRY_POLICY, type RetryPolicy } from './node/retry-policy.ts';
// Running
export {
  createEngine,
  type Engine,
  type RerunArgs,
  type ResumeOptions,
  type StartOptions,
} from './run/create-engine.ts';
export type {
  EngineBaseOptions,
  EngineHooks,
  EngineOptions,
  FailurePolicy,
  NodeErrorReport,
  RequiredServices,
  SecretRequest,
  SecretsResolver,
  ServicesOption,
} from './run/engine-options.ts';
export type { RunHandle, RunListener } from './run/run-handle.ts';
export type { RunCost, RunOutcome } from './run/run-outcome.ts';

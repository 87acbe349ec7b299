/**
 * Every error code the engine can produce. Hosts map these to HTTP statuses with an exhaustive
 * `Record<EngineErrorCode, number>`: adding a code without a status does not compile there.
 */
export const ENGINE_ERROR_CODES = {
  /** A node failed for a reason that may be transient; retried under the retry policy. */
  NODE_FAILED: 'NODE_FAILED',
  /** A node failed for a reason retrying cannot fix (bad key, content rejected, a bug). */
  NON_RETRYABLE: 'NON_RETRYABLE',
  /** A node asked to be retried after a delay (rate limit) and ran out of attempts. */
  RETRY_AFTER: 'RETRY_AFTER',
  /** A node attempt exceeded its timeout. */
  TIMEOUT: 'TIMEOUT',
  /** The run was cancelled while the node was running. */
  CANCELLED: 'CANCELLED',
  /** A node's input, output or config did not match its schema. */
  SCHEMA_VALIDATION: 'SCHEMA_VALIDATION',
  /** The graph did not validate; it never started. */
  GRAPH_INVALID: 'GRAPH_INVALID',
  /** The billing host refused the credit hold. */
  INSUFFICIENT_CREDITS: 'INSUFFICIENT_CREDITS',
  /** The secrets resolver had no value for a secret a node asked for. */
  MISSING_SECRET: 'MISSING_SECRET',
  /** A node type is registered twice. */
  DUPLICATE_NODE_TYPE: 'DUPLICATE_NODE_TYPE',
  /** A node type is not in the registry. */
  UNKNOWN_NODE_TYPE: 'UNKNOWN_NODE_TYPE',
  /** A checkpoint write carried an older fencing token than the store's: another worker owns the run. */
  STALE_FENCE: 'STALE_FENCE',
  /** The run id is not in the checkpoint store, or already exists when creating it. */
  RUN_NOT_FOUND: 'RUN_NOT_FOUND',
  /** A run with that id already exists in the store. */
  RUN_EXISTS: 'RUN_EXISTS',
  /** A checkpoint was written by an incompatible format version. */
  CHECKPOINT_VERSION: 'CHECKPOINT_VERSION',
  /** Anything else (a bug, or an error the engine does not know). */
  INTERNAL: 'INTERNAL',
} as const;

/** The union of engine error codes. */
export type EngineErrorCode = (typeof ENGINE_ERROR_CODES)[keyof typeof ENGINE_ERROR_CODES];

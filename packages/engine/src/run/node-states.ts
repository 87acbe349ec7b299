/*
 * The states of a node in a run's status table (a `Uint8Array` indexed by plan node). @internal
 */

/** Not ready: waiting for upstream nodes. @internal */
export const PENDING = 0;
/** Ready, waiting for a key slot or a run slot. @internal */
export const QUEUED = 1;
/** Its body is running (attempts, retries). @internal */
export const RUNNING = 2;
/** Its body succeeded; its checkpoint and capture are being written. A stop does not interrupt this. @internal */
export const COMMITTING = 3;
/** Committed: its output feeds its dependents. @internal */
export const DONE = 4;
/** @internal */
export const FAILED = 5;
/** @internal */
export const SKIPPED = 6;
/** @internal */
export const CANCELLED = 7;

import type { NodeRecord, RunPatch, RunRecord, RunSnapshot } from './checkpoint-records.ts';

/**
 * Where runs and node checkpoints are kept, so a run survives a crash. The engine ships an
 * in-memory store; the server implements one on Postgres. Every store must pass the conformance
 * suite in `@vidgenie/engine/testing`.
 *
 * Fencing: `createRun` and `claimRun` hand out a fencing token; each later write carries it, and a
 * store rejects (with `StaleFenceError`) any write whose token is older than the run's current one,
 * so a worker that lost the run cannot overwrite the worker that took it over. Stores keep copies:
 * mutating a value after writing it must not change what is stored.
 */
export interface CheckpointStore {
  /** Stores a new run, with optional pre-completed nodes. Rejects with `RUN_EXISTS` if the id is taken. */
  createRun(args: CheckpointStore.CreateRunArgs): Promise<{ readonly fence: number }>;
  /** Takes the run over: increments and returns its fencing token. Rejects with `RUN_NOT_FOUND`. */
  claimRun(args: { readonly runId: string }): Promise<RunSnapshot>;
  /** Reads a run, or `undefined` when there is none. */
  loadRun(args: { readonly runId: string }): Promise<RunSnapshot | undefined>;
  /** Inserts or replaces one node's record. */
  saveNode(args: CheckpointStore.SaveNodeArgs): Promise<void>;
  /** Updates the run record. */
  saveRun(args: CheckpointStore.SaveRunArgs): Promise<void>;
}

/** Argument types of {@link CheckpointStore}. */
export declare namespace CheckpointStore {
  interface CreateRunArgs {
    readonly run: RunRecord;
    readonly nodes?: readonly NodeRecord[];
  }
  interface SaveNodeArgs {
    readonly runId: string;
    readonly fence: number;
    readonly node: NodeRecord;
    /** The run's latest event sequence number at the time of the write. */
    readonly seq: number;
  }
  interface SaveRunArgs {
    readonly runId: string;
    readonly fence: number;
    readonly patch: RunPatch;
  }
}

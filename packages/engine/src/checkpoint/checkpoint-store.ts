import type { BillingHooks } from '../cost/billing-hooks.ts';
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
  /**
   * Optional: saves a succeeded node's record and charges its price in one atomic write. A store
   * that shares a database with the host's ledger implements it so that committing a paid node is
   * one round trip instead of three (`saveNode`, `billing.capture`, `saveNode` again with
   * `captured: true`). When it exists, the engine calls it for every paid success instead of those
   * three, with the record already `captured: true`.
   *
   * It must do both or neither: either the record is saved and the node is charged once (a repeat
   * with the same `capture.idempotencyKey` charges nothing more), or it throws and changes nothing.
   * A stale fence rejects with `StaleFenceError`, like `saveNode`; any other error fails the run at
   * this node, as a failed `billing.capture` does. Check it with the conformance suite's
   * `commitNode: true` option.
   */
  commitNode?(args: CheckpointStore.CommitNodeArgs): Promise<void>;
  /**
   * Optional: saves a run's end and releases the rest of its hold in one atomic write, where the
   * engine would otherwise make three (`saveRun` with the release pending, `billing.release`,
   * `saveRun` again). When it exists, the engine calls it at the end of every run that reserved,
   * with `patch.releasePending: false`.
   *
   * It resolves `true` when it did both: the patch is saved and the hold released once (a repeat
   * with the same `release.idempotencyKey` releases nothing more). It resolves `false`, having
   * changed nothing, when it cannot do both at once (a stale fence, a hold already resolved); the
   * engine then makes the three writes, which report why as they always have. A rejection also
   * means nothing changed; the engine then falls back to the same three writes. Check it with the
   * conformance suite's `commitRunEnd` option.
   */
  commitRunEnd?(args: CheckpointStore.CommitRunEndArgs): Promise<boolean>;
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
  interface CommitNodeArgs extends SaveNodeArgs {
    /** The charge to make with the save: the same arguments `billing.capture` would get. */
    readonly capture: BillingHooks.CaptureArgs;
  }
  interface SaveRunArgs {
    readonly runId: string;
    readonly fence: number;
    readonly patch: RunPatch;
  }
  interface CommitRunEndArgs extends SaveRunArgs {
    /** The release to make with the save: the same arguments `billing.release` would get. */
    readonly release: BillingHooks.ReleaseArgs;
  }
}

import type { EngineErrorJSON } from '../errors/engine-error.ts';
import type { WorkflowGraph } from '../graph/workflow-graph.ts';

/**
 * The version of the checkpoint format: the shape of the {@link RunRecord} and {@link NodeRecord}s a
 * `CheckpointStore` keeps. The engine writes it as `RunRecord.version` when it creates a run; a
 * run's node records are in its run record's format. A record without `version` is format 1.
 *
 * A new format version is a breaking change of the stored data, so the engine that introduces it
 * must still read (and resume) every older format, migrating records on load. An engine refuses a
 * run written in a newer format than it reads with the non-retryable `CHECKPOINT_VERSION` error,
 * leaving the run for a newer worker. See `docs/versioning.md`.
 *
 * @example
 * ```ts
 * import { CHECKPOINT_FORMAT_VERSION } from '@vidgenie/engine';
 * console.log(CHECKPOINT_FORMAT_VERSION); // 1
 * ```
 */
export const CHECKPOINT_FORMAT_VERSION = 1;

/** A run's lifecycle status as stored. */
export type RunStatus = 'running' | 'completed' | 'failed' | 'cancelled';

/** A node's status as stored. Only `completed` nodes are skipped on resume. */
export type NodeStatus = 'running' | 'completed' | 'failed';

/** The credit hold a billing host placed for a run. */
export interface ReservationRecord {
  /** The host's id for the hold (absent when nothing was reserved). */
  readonly id?: string;
  /** Credits held. */
  readonly amount: number;
}

/** A run as stored: the graph it runs and where it stands. Values are plain JSON. */
export interface RunRecord {
  /**
   * The checkpoint format the run is stored in ({@link CHECKPOINT_FORMAT_VERSION} when written).
   * Records stored without it are read as format 1.
   */
  readonly version: typeof CHECKPOINT_FORMAT_VERSION;
  readonly runId: string;
  readonly graph: WorkflowGraph;
  readonly status: RunStatus;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** The run this one was rerun from. */
  readonly parentRunId?: string;
  readonly reservation?: ReservationRecord;
  /** Credits released when the run ended. */
  readonly released?: number;
  /** True from the moment the end is saved until the host confirmed the release. */
  readonly releasePending?: boolean;
  /** What the run charged, written when it ended (so a resume of an ended run reports the same). */
  readonly cost?: {
    readonly estimated: number;
    readonly reserved: number;
    readonly captured: number;
    readonly released: number;
    readonly saved: number;
  };
  readonly error?: EngineErrorJSON;
  /** The node whose failure failed the run. */
  readonly failedNodeId?: string;
  readonly cancelReason?: string;
  /** The highest event sequence number written with a checkpoint. */
  readonly lastSeq: number;
}

/**
 * A node's checkpoint: its output once completed, and its durable state while running. It is in
 * the checkpoint format of its run's {@link RunRecord}.
 */
export interface NodeRecord {
  readonly nodeId: string;
  readonly status: NodeStatus;
  readonly attempt: number;
  readonly output?: unknown;
  readonly state?: unknown;
  readonly error?: EngineErrorJSON;
  /** Credits this node costs when it succeeds (0 for reused outputs). */
  readonly cost: number;
  /** Whether its credits were captured (true when there is nothing to capture). */
  readonly captured: boolean;
  /** Where a completed output came from, when the node did not run: the output cache or an earlier run. */
  readonly reused?: 'cache' | 'rerun';
  readonly startedAt?: number;
  readonly endedAt?: number;
}

/** The fields of a run record that change while it runs. */
export type RunPatch = Partial<
  Pick<
    RunRecord,
    | 'status'
    | 'reservation'
    | 'released'
    | 'releasePending'
    | 'cost'
    | 'error'
    | 'failedNodeId'
    | 'cancelReason'
    | 'lastSeq'
  >
>;

/** Everything stored about a run, with the current fencing token. */
export interface RunSnapshot {
  readonly run: RunRecord;
  readonly nodes: readonly NodeRecord[];
  /** The current fencing token: only writes carrying it are accepted. */
  readonly fence: number;
}

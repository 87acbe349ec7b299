import type { EngineErrorJSON } from '../errors/engine-error.ts';
import type { WorkflowGraph } from '../graph/workflow-graph.ts';

/** The current checkpoint format version. Stores keep it with each run; older versions are migrated on load. */
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

/** A node's checkpoint: its output once completed, and its durable state while running. */
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

import { klona } from 'klona/json';
import { EngineError } from '../errors/engine-error.ts';
import { StaleFenceError } from '../errors/stale-fence-error.ts';
import type { NodeRecord, RunRecord, RunSnapshot } from './checkpoint-records.ts';
import type { CheckpointStore } from './checkpoint-store.ts';

interface StoredRun {
  run: RunRecord;
  lastSeq: number;
  nodes: Map<string, NodeRecord>;
  fence: number;
}

/** Options of {@link createMemoryCheckpointStore}. */
export interface MemoryCheckpointStoreOptions {
  /**
   * Copy records on write and read, as a real store would. Default true; turn it off only when
   * nothing mutates outputs after returning them.
   */
  readonly clone?: boolean;
}

/**
 * A checkpoint store in memory: for tests, embedding and single-process use. A crash loses it;
 * resume across process restarts needs a persistent store.
 *
 * Node records are deep-copied (as JSON values) on write and on read, so mutating an output after
 * returning it never changes a checkpoint. A run's graph is immutable once the run is created, so
 * the store keeps it by reference and copies it only when a run is read back.
 *
 * @example
 * ```ts
 * import { createMemoryCheckpointStore } from '@vidgenie/engine';
 * const store = createMemoryCheckpointStore();
 * ```
 */
export function createMemoryCheckpointStore(options: MemoryCheckpointStoreOptions = {}): CheckpointStore {
  const runs = new Map<string, StoredRun>();
  const copy: <T>(value: T) => T = options.clone === false ? (value) => value : klona;

  const owned = (runId: string, fence: number): StoredRun => {
    const stored = runs.get(runId);
    if (stored === undefined) throw new EngineError('RUN_NOT_FOUND', `No run with id ${runId}.`);
    if (fence !== stored.fence) throw new StaleFenceError({ runId, fence, current: stored.fence });
    return stored;
  };
  const snapshot = (stored: StoredRun): RunSnapshot => ({
    run: copy({ ...stored.run, lastSeq: stored.lastSeq }),
    nodes: [...stored.nodes.values()].map(copy),
    fence: stored.fence,
  });

  return {
    async createRun({ run, nodes = [] }) {
      if (runs.has(run.runId))
        throw new EngineError('RUN_EXISTS', `A run with id ${run.runId} already exists.`);
      runs.set(run.runId, {
        run: { ...run },
        lastSeq: run.lastSeq,
        nodes: new Map(nodes.map((n) => [n.nodeId, copy(n)])),
        fence: 1,
      });
      return { fence: 1 };
    },
    async claimRun({ runId }) {
      const stored = runs.get(runId);
      if (stored === undefined) throw new EngineError('RUN_NOT_FOUND', `No run with id ${runId}.`);
      stored.fence += 1;
      return snapshot(stored);
    },
    async loadRun({ runId }) {
      const stored = runs.get(runId);
      return stored === undefined ? undefined : snapshot(stored);
    },
    async saveNode({ runId, fence, node, seq }) {
      const stored = owned(runId, fence);
      stored.nodes.set(node.nodeId, copy(node));
      if (seq > stored.lastSeq) stored.lastSeq = seq;
    },
    async saveRun({ runId, fence, patch }) {
      const stored = owned(runId, fence);
      if (patch.lastSeq !== undefined && patch.lastSeq > stored.lastSeq) stored.lastSeq = patch.lastSeq;
      stored.run = { ...stored.run, ...copy(patch), updatedAt: Date.now() };
    },
  };
}

import {
  CHECKPOINT_FORMAT_VERSION,
  EngineError,
  type NodeRecord,
  type RunRecord,
  type RunSnapshot,
} from '@vidgenie/engine';

/**
 * A run as read from `run_checkpoints`, with its node records aggregated.
 * @internal
 */
export interface RunCheckpointRow {
  readonly fence: number;
  readonly format_version: number;
  readonly last_seq: number;
  /** The `RunRecord` as created. */
  readonly record: Record<string, unknown>;
  /** The `RunPatch` fields saved since; null marks a removed field. */
  readonly patch: Record<string, unknown>;
  readonly nodes: readonly NodeRecord[];
}

/**
 * Throws the engine's `CHECKPOINT_VERSION` error for a format this server cannot read. There is
 * one format so far; when the engine adds another, older rows are migrated here, on load.
 * @internal
 */
export function checkFormatVersion(runId: string, formatVersion: number): void {
  if (formatVersion !== CHECKPOINT_FORMAT_VERSION) {
    throw new EngineError(
      'CHECKPOINT_VERSION',
      `Run ${runId} was stored in checkpoint format ${formatVersion}; this server reads ${CHECKPOINT_FORMAT_VERSION}.`,
      { retryable: false },
    );
  }
}

/**
 * The engine's snapshot from a row: the created record with the saved patch applied over it (as
 * the engine's memory store spreads it: existing keys keep their place) and `lastSeq` from its
 * column. The values were just parsed from the database, so they are the caller's own copies.
 * @internal
 */
export function readRunSnapshot(row: RunCheckpointRow): RunSnapshot {
  const run: Record<string, unknown> = { ...row.record };
  checkFormatVersion(String(run.runId), row.format_version);
  for (const [key, value] of Object.entries(row.patch)) {
    if (value === null) delete run[key];
    else run[key] = value;
  }
  run.lastSeq = Number(row.last_seq);
  return { run: run as unknown as RunRecord, nodes: row.nodes, fence: row.fence };
}

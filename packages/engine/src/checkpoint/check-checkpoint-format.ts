import { EngineError } from '../errors/engine-error.ts';
import { CHECKPOINT_FORMAT_VERSION } from './checkpoint-records.ts';

/**
 * The checkpoint format a stored run record was written in: its `version`, or 1 when it has none
 * (the format before the field existed is format 1, so such records are read as format 1).
 * @internal
 */
export function checkpointFormatOf(run: { readonly version?: unknown }): unknown {
  return run.version === undefined ? 1 : run.version;
}

/**
 * Checks that this engine can resume a stored run: its format must be one it reads (every format
 * up to {@link CHECKPOINT_FORMAT_VERSION}; today only format 1 exists). Throws the non-retryable
 * `CHECKPOINT_VERSION` error otherwise, naming the format and what to do.
 * @internal
 */
export function checkCheckpointFormat(run: { readonly runId: string; readonly version?: unknown }): void {
  const format = checkpointFormatOf(run);
  if (format === CHECKPOINT_FORMAT_VERSION) return;
  const newer =
    typeof format === 'number' && Number.isSafeInteger(format) && format > CHECKPOINT_FORMAT_VERSION;
  throw new EngineError(
    'CHECKPOINT_VERSION',
    newer
      ? `Run ${run.runId} was checkpointed in format ${format}, newer than this engine reads (${CHECKPOINT_FORMAT_VERSION}): resume it with a @vidgenie/engine release that reads format ${format}.`
      : `Run ${run.runId} has checkpoint format ${String(format)}, which no engine writes; this engine reads format ${CHECKPOINT_FORMAT_VERSION}.`,
    { retryable: false },
  );
}

/**
 * `@vidgenie/engine/testing`: helpers for node authors and store implementers.
 *
 * @module
 */

export {
  type CommitNodeFixture,
  type ConformanceCase,
  type ConformanceRunner,
  checkpointStoreConformanceCases,
  describeCheckpointStoreConformance,
  sampleRunRecord,
} from './checkpoint-store-conformance.ts';
export { type RunNodeOptions, type RunNodeResult, runNode } from './run-node.ts';

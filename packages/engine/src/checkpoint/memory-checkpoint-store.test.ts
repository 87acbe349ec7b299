import { describe, it } from 'vitest';
import { describeCheckpointStoreConformance } from '../testing/checkpoint-store-conformance.ts';
import { createMemoryCheckpointStore } from './memory-checkpoint-store.ts';

describeCheckpointStoreConformance({
  name: 'memory',
  createStore: () => createMemoryCheckpointStore(),
  describe,
  it,
});

import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../graph/graph-types.ts';
import { applyRunEvent, failureOf, IDLE_RUN, isRunEvent, type RunState } from './run-state.ts';

const base = { runId: 'run_1', at: 1_000 };
const events: RunEvent[] = [
  { ...base, seq: 1, type: 'run.started', resumed: false, nodeCount: 2, estimatedCost: 3 },
  { ...base, seq: 2, type: 'node.started', nodeId: 'a', nodeType: 'prompt', attempt: 1 },
  { ...base, seq: 3, type: 'node.progress', nodeId: 'a', fraction: 0.5 },
  {
    ...base,
    seq: 4,
    type: 'node.completed',
    nodeId: 'a',
    nodeType: 'prompt',
    output: {},
    durationMs: 5,
    cost: 1,
    attempt: 1,
  },
  { ...base, seq: 5, type: 'node.started', nodeId: 'b', nodeType: 'video', attempt: 1 },
  {
    ...base,
    seq: 6,
    type: 'node.failed',
    nodeId: 'b',
    nodeType: 'video',
    attempt: 2,
    error: {
      code: 'NON_RETRYABLE',
      message: 'Your key was rejected',
      name: 'ProviderRejectedError',
      retryable: false,
      details: { failure: 'invalid_key', providerId: 'runway-video' },
    },
  },
  {
    ...base,
    seq: 7,
    type: 'run.failed',
    error: { code: 'NON_RETRYABLE', message: 'The video step failed', name: 'EngineError', retryable: false },
    nodeId: 'b',
  },
];

describe('applyRunEvent', () => {
  it('walks nodes through running to success or failed and ends the run', () => {
    const seen: string[] = [];
    let state: RunState = { ...IDLE_RUN, runId: 'run_1' };
    for (const event of events) {
      state = applyRunEvent(state, event);
      seen.push(
        Object.entries(state.nodes)
          .map(([id, node]) => `${id}:${node.state}`)
          .join(','),
      );
    }
    expect(seen[1]).toBe('a:running');
    expect(state.nodes.a).toMatchObject({ state: 'success', progress: 1, cost: 1, durationMs: 5 });
    expect(state.nodes.b).toMatchObject({ state: 'failed', error: 'Your key was rejected' });
    // The technical facts go to the node's details toggle.
    expect(state.nodes.b?.failure).toEqual({
      code: 'NON_RETRYABLE',
      retryable: false,
      attempts: 2,
      providerId: 'runway-video',
      reason: 'invalid_key',
    });
    expect(state).toMatchObject({ phase: 'failed', error: 'The video step failed', lastSeq: 7 });
  });

  it('ignores events it has already applied (a replay after reconnecting)', () => {
    const once = events.reduce(applyRunEvent, { ...IDLE_RUN, runId: 'run_1' });
    expect(events.reduce(applyRunEvent, once)).toBe(once);
  });

  it('keeps only the failure facts it knows the shape of', () => {
    expect(failureOf({ code: 'NODE_FAILED', retryable: true }, 3)).toEqual({
      code: 'NODE_FAILED',
      retryable: true,
      attempts: 3,
    });
    expect(
      failureOf({ code: 'NODE_FAILED', retryable: true, details: { providerId: 7, failure: null } }, 1),
    ).toEqual({ code: 'NODE_FAILED', retryable: true, attempts: 1 });
  });

  it('accepts only known event shapes from the stream', () => {
    expect(isRunEvent(events[0])).toBe(true);
    expect(isRunEvent({ type: 'node.exploded', seq: 1 })).toBe(false);
    expect(isRunEvent({ type: 'run.started' })).toBe(false);
    expect(isRunEvent('run.started')).toBe(false);
  });
});

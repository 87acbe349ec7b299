import { describe, expect, it } from 'vitest';
import { serverIssuesOf } from './canvas-atoms.ts';

describe('serverIssuesOf', () => {
  it('reads node ids from GRAPH_INVALID issues and node indexes from VALIDATION_FAILED paths', () => {
    const details = {
      issues: [
        { code: 'REQUIRED_INPUT_MISSING', nodeId: 'image-2', message: 'needs a prompt' },
        { path: 'graph.nodes.1.config.provider', message: 'unknown provider' },
        { path: 'graph.version', message: 'must be 1' },
        'junk',
      ],
    };
    expect(serverIssuesOf(details, ['prompt', 'enhance'])).toEqual([
      { nodeId: 'image-2', message: 'needs a prompt' },
      { nodeId: 'enhance', message: 'unknown provider' },
    ]);
    expect(serverIssuesOf(undefined, [])).toEqual([]);
  });
});

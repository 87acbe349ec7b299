import { describe, expect, it } from 'vitest';
import { wouldCreateCycle } from './would-create-cycle.ts';

describe('wouldCreateCycle', () => {
  const edges = [
    { source: 'prompt', target: 'enhance' },
    { source: 'enhance', target: 'image' },
    { source: 'image', target: 'video' },
  ];

  it('is true for an edge back to an ancestor, and for a self-loop', () => {
    expect(wouldCreateCycle({ edges, source: 'video', target: 'prompt' })).toBe(true);
    expect(wouldCreateCycle({ edges, source: 'image', target: 'enhance' })).toBe(true);
    expect(wouldCreateCycle({ edges, source: 'image', target: 'image' })).toBe(true);
  });

  it('is false for forward edges, parallel branches and new nodes', () => {
    expect(wouldCreateCycle({ edges, source: 'prompt', target: 'video' })).toBe(false);
    expect(wouldCreateCycle({ edges, source: 'enhance', target: 'image2' })).toBe(false);
    expect(wouldCreateCycle({ edges: [], source: 'x', target: 'y' })).toBe(false);
  });
});

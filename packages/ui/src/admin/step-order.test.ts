import { describe, expect, it } from 'vitest';
import { inStepOrder } from './format.ts';

describe('the admin per-step figures', () => {
  it('list node types in the graph order, unknown ones last by name', () => {
    const nodes = ['video', 'zeta', 'enhance', 'alpha', 'output', 'prompt', 'image'].map((nodeType) => ({
      nodeType,
    }));
    expect(inStepOrder(nodes).map((node) => node.nodeType)).toEqual([
      'prompt',
      'enhance',
      'image',
      'video',
      'output',
      'alpha',
      'zeta',
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { shortVideoGraph } from '../graph/short-video-graph.ts';
import { graphOfTemplate } from './graph-of-template.ts';

describe('graphOfTemplate', () => {
  it('takes a version-1 graph and refuses anything else', () => {
    const graph = shortVideoGraph({ prompt: 'a fox' });
    expect(graphOfTemplate({ ...graph })).toEqual(graph);
    expect(graphOfTemplate({ version: 2, nodes: [] })).toBeNull();
    expect(graphOfTemplate({ version: 1, nodes: [{ id: 1 }] })).toBeNull();
    expect(graphOfTemplate({ version: 1, nodes: [], edges: 'x' })).toBeNull();
  });
});

import { shortVideoTemplate } from '@vidgenie/nodes';
import { describe, expect, it } from 'vitest';
import { STEP_PORTS, shortVideoGraph } from './short-video-graph.ts';

describe('shortVideoGraph', () => {
  it('is the server template with the local providers picked', () => {
    const options = { prompt: 'a fox', durationSeconds: 15 } as const;
    expect(shortVideoGraph(options)).toEqual(
      shortVideoTemplate({
        ...options,
        textProvider: 'local-text',
        imageProvider: 'local-image',
        videoProvider: 'local-video',
      }),
    );
  });

  it('draws a handle for every port an edge uses', () => {
    const graph = shortVideoGraph();
    const typeOf = (id: string) =>
      graph.nodes.find((node) => node.id === id)?.type as keyof typeof STEP_PORTS;
    for (const edge of graph.edges ?? []) {
      expect(STEP_PORTS[typeOf(edge.source)].outputs as readonly string[]).toContain(edge.sourceHandle);
      expect(STEP_PORTS[typeOf(edge.target)].inputs as readonly string[]).toContain(edge.targetHandle);
    }
  });
});

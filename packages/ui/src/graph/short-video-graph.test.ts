import { shortVideoTemplate } from '@vidgenie/nodes';
import { describe, expect, it } from 'vitest';
import { shortVideoGraph } from './short-video-graph.ts';
import { NODE_SPECS } from './validate-graph.ts';

describe('shortVideoGraph', () => {
  it('is the server template, with the local providers unless others are named', () => {
    const graph = shortVideoGraph({ prompt: 'a fox', durationSeconds: 15 });
    const config = (id: string) => graph.nodes.find((node) => node.id === id)?.config;
    expect(graph.nodes.map((node) => node.id)).toEqual(shortVideoTemplate().nodes.map((node) => node.id));
    expect(graph.edges).toEqual(shortVideoTemplate().edges);
    expect(config('prompt')).toEqual({ text: 'a fox' });
    expect(config('enhance')).toEqual({ provider: 'local-text' });
    expect(config('image')).toMatchObject({ provider: 'local-image' });
    expect(config('video')).toMatchObject({ provider: 'local-video', durationSeconds: 15 });
    expect(
      shortVideoGraph({ videoProvider: 'runway-video' }).nodes.find((node) => node.id === 'video')?.config,
    ).toMatchObject({ provider: 'runway-video' });
  });

  it('draws a handle for every port an edge uses', () => {
    const graph = shortVideoGraph();
    const typeOf = (id: string) =>
      graph.nodes.find((node) => node.id === id)?.type as keyof typeof NODE_SPECS;
    const names = (ports: readonly { name: string }[]) => ports.map((port) => port.name);
    for (const edge of graph.edges ?? []) {
      expect(names(NODE_SPECS[typeOf(edge.source)].outputs)).toContain(edge.sourceHandle);
      expect(names(NODE_SPECS[typeOf(edge.target)].inputs)).toContain(edge.targetHandle);
    }
  });
});

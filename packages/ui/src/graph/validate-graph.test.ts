import { describe, expect, it } from 'vitest';
import { addEdge, addNode, removeElements } from './edit-graph.ts';
import { nodeSpecsOf } from './node-specs-of.ts';
import { shortVideoGraph } from './short-video-graph.ts';
import { checkConnection, NODE_SPECS } from './validate-graph.ts';
import { DEFAULT_VALIDATION_REGISTRY, validateWithEngine as validateGraph } from './validate-with-engine.ts';
import { validationRegistryFor } from './validation-registry.ts';

const template = shortVideoGraph({ prompt: 'a fox' });

describe('validateWithEngine (the engine’s validateGraph, client-side, before Run)', () => {
  it('accepts the template', () => {
    expect(validateGraph(template)).toEqual([]);
  });

  it('has the ports the engine registry derives from the nodes’ schemas, as the drawn handles name them', () => {
    expect(NODE_SPECS).toEqual(nodeSpecsOf(DEFAULT_VALIDATION_REGISTRY));
    expect(NODE_SPECS.video.inputs).toEqual([
      { name: 'image', type: 'image', required: true },
      { name: 'prompt', type: 'text', required: false },
    ]);
  });

  it('puts a missing required input on its node, and not an optional one', () => {
    const { graph, id } = addNode(template, 'image');
    expect(id).toBe('image-2');
    expect(validateGraph(graph)).toEqual([
      { code: 'REQUIRED_INPUT_MISSING', nodeId: 'image-2', port: 'prompt', values: { port: 'prompt' } },
    ]);
    const withoutPrompt = removeElements(template, { edgeIds: ['enhance-video'] });
    expect(validateGraph(withoutPrompt)).toEqual([]);
  });

  it('flags unknown types, mismatched ports, doubly fed inputs and cycles', () => {
    const graph = {
      ...template,
      nodes: [...template.nodes, { id: 'x', type: 'teleport' }],
      edges: [
        ...(template.edges ?? []),
        { id: 'bad', source: 'image', sourceHandle: 'image', target: 'enhance', targetHandle: 'prompt' },
      ],
    };
    const codes = validateGraph(graph).map((issue) => `${issue.code}:${issue.nodeId}`);
    expect(codes).toContain('UNKNOWN_NODE_TYPE:x');
    expect(codes).toContain('INCOMPATIBLE_PORTS:enhance');
    expect(codes).toContain('INPUT_ALREADY_CONNECTED:enhance');
    expect(codes).toContain('CYCLE:enhance');
    expect(codes).toContain('CYCLE:image');
    expect(validateGraph(graph).find((issue) => issue.code === 'INCOMPATIBLE_PORTS')).toEqual({
      code: 'INCOMPATIBLE_PORTS',
      nodeId: 'enhance',
      edgeId: 'bad',
      port: 'prompt',
      values: { from: 'image', to: 'text', port: 'prompt' },
    });
  });

  it('flags an edge to a missing node, an unknown port and a duplicate node id on the nodes concerned', () => {
    const graph = {
      ...template,
      nodes: [...template.nodes, { id: 'image', type: 'image', config: { provider: 'local-image' } }],
      edges: [
        ...(template.edges ?? []),
        { id: 'ghost', source: 'gone', sourceHandle: 'video', target: 'output', targetHandle: 'video' },
        { id: 'typo', source: 'prompt', sourceHandle: 'idea', target: 'enhance', targetHandle: 'prompt' },
      ],
    };
    const issues = validateGraph(graph);
    expect(issues).toContainEqual({ code: 'DUPLICATE_NODE_ID', nodeId: 'image', values: {} });
    expect(issues).toContainEqual({
      code: 'UNKNOWN_NODE',
      nodeId: 'output',
      edgeId: 'ghost',
      values: { node: 'gone' },
    });
    expect(issues).toContainEqual({
      code: 'UNKNOWN_PORT',
      nodeId: 'prompt',
      edgeId: 'typo',
      port: 'idea',
      values: { port: 'idea' },
    });
  });

  it('puts an empty prompt on the prompt node with the engine’s message (no server round trip)', () => {
    const empty = shortVideoGraph({ prompt: '   ' });
    const issues = validateGraph(empty);
    expect(issues).toEqual([
      {
        code: 'INVALID_CONFIG',
        nodeId: 'prompt',
        values: { message: 'Type your idea: the prompt is empty.' },
      },
    ]);
    const { graph, id } = addNode(template, 'prompt');
    expect(validateGraph(graph).map((issue) => `${issue.code}:${issue.nodeId}`)).toEqual([
      `INVALID_CONFIG:${id}`,
    ]);
  });

  it('checks provider ids against the loaded providers, and not before they load', () => {
    const graph = shortVideoGraph({ prompt: 'a fox', videoProvider: 'runway-video' });
    expect(validateGraph(graph, validationRegistryFor(null))).toEqual([]);
    const keys = { keys: [], slots: [] };
    const issues = validateGraph(graph, validationRegistryFor(keys));
    expect(issues).toEqual([
      {
        code: 'INVALID_CONFIG',
        nodeId: 'video',
        values: { message: expect.stringContaining('Choose a video provider: local-video') },
      },
    ]);
    const withRunway = {
      keys: [],
      slots: [
        {
          providerId: 'runway',
          label: 'Runway API key',
          testable: true,
          providers: [{ id: 'runway-video', displayName: 'Runway', kind: 'video' as const }],
        },
      ],
    };
    expect(validateGraph(graph, validationRegistryFor(withRunway))).toEqual([]);
    expect(validationRegistryFor(withRunway)).toBe(validationRegistryFor(withRunway));
  });

  it('removes a node with its edges', () => {
    const graph = removeElements(template, { nodeIds: ['image'] });
    expect(graph.nodes.map((node) => node.id)).not.toContain('image');
    expect((graph.edges ?? []).some((edge) => edge.source === 'image' || edge.target === 'image')).toBe(
      false,
    );
    expect(validateGraph(graph).map((issue) => issue.code)).toEqual(['REQUIRED_INPUT_MISSING']);
  });
});

describe('checkConnection (while a connection is drawn)', () => {
  const { graph } = addNode(template, 'image');

  it('accepts a text output into the new image node', () => {
    const connection = {
      source: 'enhance',
      sourceHandle: 'prompt',
      target: 'image-2',
      targetHandle: 'prompt',
    };
    expect(checkConnection(graph, connection)).toBeNull();
    expect(validateGraph(addEdge(graph, connection))).toEqual([]);
  });

  it('rejects an image into a prompt input, with both types', () => {
    expect(
      checkConnection(graph, {
        source: 'image',
        sourceHandle: 'image',
        target: 'image-2',
        targetHandle: 'prompt',
      }),
    ).toEqual({ code: 'INCOMPATIBLE_PORTS', from: 'image', to: 'text' });
  });

  it('rejects a busy input, a loop, the same node and unknown ports', () => {
    expect(
      checkConnection(graph, {
        source: 'prompt',
        sourceHandle: 'prompt',
        target: 'enhance',
        targetHandle: 'prompt',
      }),
    ).toEqual({ code: 'INPUT_ALREADY_CONNECTED' });
    const open = removeElements(template, { edgeIds: ['prompt-enhance'] });
    expect(
      checkConnection(open, {
        source: 'enhance',
        sourceHandle: 'prompt',
        target: 'enhance',
        targetHandle: 'prompt',
      }),
    ).toEqual({ code: 'SAME_NODE' });
    const { graph: withEnhance } = addNode(open, 'enhance');
    const chained = addEdge(withEnhance, {
      source: 'enhance',
      sourceHandle: 'prompt',
      target: 'enhance-2',
      targetHandle: 'prompt',
    });
    expect(
      checkConnection(chained, {
        source: 'enhance-2',
        sourceHandle: 'prompt',
        target: 'enhance',
        targetHandle: 'prompt',
      }),
    ).toEqual({ code: 'CYCLE' });
    expect(
      checkConnection(graph, {
        source: 'image',
        sourceHandle: 'nope',
        target: 'image-2',
        targetHandle: 'prompt',
      }),
    ).toEqual({ code: 'UNKNOWN_PORT' });
  });
});

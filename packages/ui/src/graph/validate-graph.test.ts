import { describe, expect, it } from 'vitest';
import { addEdge, addNode, removeElements } from './edit-graph.ts';
import { STEP_PORTS, shortVideoGraph } from './short-video-graph.ts';
import { checkConnection, NODE_SPECS, validateGraph } from './validate-graph.ts';

const template = shortVideoGraph({ prompt: 'a fox' });

describe('validateGraph (client-side, before Run)', () => {
  it('accepts the template', () => {
    expect(validateGraph(template)).toEqual([]);
  });

  it('keeps the port names of the drawn handles', () => {
    for (const [type, spec] of Object.entries(NODE_SPECS)) {
      const ports = STEP_PORTS[type as keyof typeof STEP_PORTS];
      expect(spec.inputs.map((p) => p.name)).toEqual(ports.inputs);
      expect(spec.outputs.map((p) => p.name)).toEqual(ports.outputs);
    }
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
    expect(codes.some((code) => code.startsWith('CYCLE:'))).toBe(true);
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

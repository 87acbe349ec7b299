import { portTypeOf, validateGraph } from '@vidgenie/engine';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { createShortVideoRegistry } from '../nodes/create-short-video-registry.ts';
import { promptNode } from '../nodes/prompt-node.ts';
import { createProviderRegistry } from '../provider/provider-registry.ts';
import { localProviders } from '../providers/local/local-providers.ts';
import { shortVideoTemplate } from '../template/short-video-template.ts';
import { createValidationRegistry, ValidationOnlyError } from './index.ts';

const local = localProviders();
const descriptors = local.map((p) => ({ kind: p.kind, id: p.id }));
const template = shortVideoTemplate({ prompt: 'a fox in the snow' });

const portTypes = (shape: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(shape).map(([port, schema]) => [port, portTypeOf(schema as z.ZodType)]));

describe('createValidationRegistry (@vidgenie/nodes/specs)', () => {
  it('has the five node types with the server nodes’ ports and port types', () => {
    const registry = createValidationRegistry({ providers: descriptors });
    const server = createShortVideoRegistry({ providers: createProviderRegistry(local) });
    expect(registry.types).toEqual(server.types);
    for (const type of server.types) {
      const spec = registry.get(type);
      const node = server.get(type);
      expect([spec.version, spec.title, spec.description]).toEqual([
        node.version,
        node.title,
        node.description,
      ]);
      expect(portTypes(spec.input.shape)).toEqual(portTypes(node.input.shape));
      expect(portTypes(spec.output.shape)).toEqual(portTypes(node.output.shape));
    }
    expect(registry.get('prompt').config).toBe(promptNode.config);
  });

  it('accepts the template and explains an empty prompt on the prompt node', () => {
    const registry = createValidationRegistry({ providers: descriptors });
    expect(validateGraph(template, registry).ok).toBe(true);
    const empty = validateGraph(shortVideoTemplate({ prompt: '  ' }), registry);
    expect(empty.ok).toBe(false);
    expect(empty.issues).toEqual([
      expect.objectContaining({
        code: 'INVALID_CONFIG',
        nodeId: 'prompt',
        path: ['text'],
        message: expect.stringContaining('the prompt is empty'),
      }),
    ]);
  });

  it('checks provider ids against the descriptors, and skips that check without them', () => {
    const graph = shortVideoTemplate({ prompt: 'a fox', imageProvider: 'openai-image' });
    const issues = validateGraph(graph, createValidationRegistry({ providers: descriptors })).issues;
    expect(issues).toEqual([
      expect.objectContaining({
        code: 'INVALID_CONFIG',
        nodeId: 'image',
        path: ['provider'],
        message: expect.stringContaining('Choose a image provider: local-image'),
      }),
    ]);
    const withHosted = [...descriptors, { kind: 'image' as const, id: 'openai-image' }];
    expect(validateGraph(graph, createValidationRegistry({ providers: withHosted })).ok).toBe(true);
    expect(validateGraph(graph, createValidationRegistry()).ok).toBe(true);
  });

  it('finds the same graph problems as the server registry', () => {
    const graph = {
      ...template,
      nodes: [...template.nodes, { id: 'x', type: 'teleport' }],
      edges: [
        ...(template.edges ?? []),
        { id: 'bad', source: 'image', sourceHandle: 'image', target: 'enhance', targetHandle: 'prompt' },
      ],
    };
    const server = createShortVideoRegistry({ providers: createProviderRegistry(local) });
    const mine = validateGraph(graph, createValidationRegistry({ providers: descriptors })).issues;
    expect(mine.map((issue) => issue.code).sort()).toEqual(
      ['CYCLE', 'INCOMPATIBLE_PORTS', 'INPUT_ALREADY_CONNECTED', 'UNKNOWN_NODE_TYPE'].sort(),
    );
    expect(mine).toEqual(validateGraph(graph, server).issues);
  });

  it('refuses to run: runs happen on the server', async () => {
    const prompt = createValidationRegistry().get('prompt');
    expect(() => prompt.run({} as Parameters<typeof prompt.run>[0])).toThrow(ValidationOnlyError);
    expect(() => prompt.run({} as Parameters<typeof prompt.run>[0])).toThrow(
      'this definition only validates; runs happen on the server',
    );
  });
});

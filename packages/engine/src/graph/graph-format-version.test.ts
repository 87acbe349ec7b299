import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { GraphValidationError } from '../errors/graph-validation-error.ts';
import { defineNode } from '../node/define-node.ts';
import { createNodeRegistry } from '../node/node-registry.ts';
import { createEngine } from '../run/create-engine.ts';
import { validateGraph } from './validate-graph.ts';
import { GRAPH_FORMAT_VERSION, WorkflowGraph } from './workflow-graph.ts';

const hello = defineNode({
  type: 'hello',
  version: 1,
  input: z.object({}),
  output: z.object({ text: z.string() }),
  config: z.object({ name: z.string() }),
  run: ({ config }) => ({ text: `Hello, ${config.name}` }),
});
const registry = createNodeRegistry([hello]);
const nodes = [{ id: 'a', type: 'hello', config: { name: 'Ada' } }];

describe('graph format version', () => {
  it('is 1, and a graph of the current version, with no other version field, validates', () => {
    expect(GRAPH_FORMAT_VERSION).toBe(1);
    const result = validateGraph({ version: 1, nodes, edges: [] }, registry);
    expect(result.ok).toBe(true);
    expect(result.ok && result.graph.version).toBe(GRAPH_FORMAT_VERSION);
  });

  it('a graph of a future version is refused with UNSUPPORTED_VERSION, naming the version and what to do', () => {
    const result = validateGraph({ version: GRAPH_FORMAT_VERSION + 1, nodes, edges: [] }, registry);
    expect(result.ok).toBe(false);
    expect(result.issues).toHaveLength(1);
    const [issue] = result.issues;
    expect(issue?.code).toBe('UNSUPPORTED_VERSION');
    expect(issue?.path).toEqual(['version']);
    expect(issue?.message).toContain(`version ${GRAPH_FORMAT_VERSION + 1}`);
    expect(issue?.message).toContain('@vidgenie/engine release');
  });

  it('engine.run refuses a future-version graph with GraphValidationError before running anything', () => {
    let ran = false;
    const spy = defineNode({
      ...hello,
      run: () => {
        ran = true;
        return { text: '' };
      },
    });
    const engine = createEngine({ registry: createNodeRegistry([spy]) });
    let error: unknown;
    try {
      engine.start({ version: 2, nodes, edges: [] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GraphValidationError);
    const { code, issues } = error as GraphValidationError;
    expect(code).toBe('GRAPH_INVALID');
    expect(issues.map((i) => i.code)).toEqual(['UNSUPPORTED_VERSION']);
    expect(ran).toBe(false);
  });

  it('a version that no engine writes is refused, without the upgrade advice', () => {
    for (const version of [0, 1.5, '1']) {
      const result = validateGraph({ version, nodes, edges: [] }, registry);
      expect(result.ok).toBe(false);
      expect(result.issues.map((i) => i.code)).toEqual(['UNSUPPORTED_VERSION']);
      expect(result.issues[0]?.message).not.toContain('release');
    }
  });

  it('the schema requires the version: a graph without one is malformed', () => {
    expect(WorkflowGraph.safeParse({ nodes, edges: [] }).success).toBe(false);
    const result = validateGraph({ nodes, edges: [] }, registry);
    expect(result.issues.map((i) => [i.code, i.path])).toEqual([['MALFORMED_GRAPH', ['version']]]);
  });
});

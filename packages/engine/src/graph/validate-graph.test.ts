import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { GraphValidationError } from '../errors/graph-validation-error.ts';
import { defineNode } from '../node/define-node.ts';
import { createNodeRegistry } from '../node/node-registry.ts';
import { createEngine } from '../run/create-engine.ts';
import type { GraphIssue, GraphIssueCode } from './graph-issue.ts';
import { validateGraph } from './validate-graph.ts';

const text = defineNode({
  type: 'text',
  version: 1,
  input: z.object({}),
  output: z.object({ text: z.string(), count: z.number() }),
  config: z.object({ value: z.string().default('hi'), size: z.enum(['small', 'large']).optional() }),
  run: ({ config }) => ({ text: config.value, count: config.value.length }),
});

const upper = defineNode({
  type: 'upper',
  version: 1,
  input: z.object({ text: z.string(), suffix: z.string().optional() }),
  output: z.object({ text: z.string() }),
  config: z.object({}),
  run: ({ input }) => ({ text: input.text.toUpperCase() + (input.suffix ?? '') }),
});

const numberSink = defineNode({
  type: 'number.sink',
  version: 1,
  input: z.object({ n: z.number() }),
  output: z.object({}),
  config: z.object({}),
  run: () => ({}),
});

const imageGen = defineNode({
  type: 'image.gen',
  version: 1,
  input: z.object({ prompt: z.string() }),
  output: z.object({
    image: z.string().meta({ portType: 'image' }),
    video: z.string().meta({ portType: 'video' }),
  }),
  config: z.object({}),
  run: () => ({ image: 'i', video: 'v' }),
});

const imageSink = defineNode({
  type: 'image.sink',
  version: 1,
  input: z.object({ image: z.string().meta({ portType: 'image' }) }),
  output: z.object({}),
  config: z.object({}),
  run: () => ({}),
});

const anySink = defineNode({
  type: 'any.sink',
  version: 1,
  input: z.object({ value: z.unknown() }),
  output: z.object({}),
  config: z.object({}),
  run: () => ({}),
});

const describedText = defineNode({
  type: 'described.text',
  version: 1,
  input: z.object({}),
  output: z.object({
    text: z.string().describe('The generated text, shown in the canvas tooltip'),
    heading: z.string().meta({ title: 'Heading', examples: ['Otters'] }),
  }),
  config: z.object({}),
  run: () => ({ text: 'x', heading: 'h' }),
});

const priced = defineNode({
  type: 'priced',
  version: 1,
  input: z.object({}),
  output: z.object({}),
  config: z.object({ price: z.number() }),
  estimateCost: ({ config }) => config.price,
  run: () => ({}),
});

const registry = createNodeRegistry([
  text,
  upper,
  numberSink,
  imageGen,
  imageSink,
  anySink,
  describedText,
  priced,
]);

type NodeJson = { id: string; type: string; config?: Record<string, unknown> };
type EdgeJson = { id: string; source: string; sourceHandle: string; target: string; targetHandle: string };

const node = (id: string, type: string, config?: Record<string, unknown>): NodeJson =>
  config === undefined ? { id, type } : { id, type, config };
const edge = (id: string, from: `${string}.${string}`, to: `${string}.${string}`): EdgeJson => {
  const [source = '', sourceHandle = ''] = from.split('.');
  const [target = '', targetHandle = ''] = to.split('.');
  return { id, source, sourceHandle, target, targetHandle };
};
const graph = (nodes: NodeJson[], edges: EdgeJson[] = []) => ({ version: 1, nodes, edges });

function issuesOf(input: unknown): readonly GraphIssue[] {
  const result = validateGraph(input, registry);
  expect(result.ok).toBe(false);
  return result.issues;
}

/** The issues with a given code, without their human messages. */
function withCode(issues: readonly GraphIssue[], code: GraphIssueCode) {
  return issues
    .filter((issue) => issue.code === code)
    .map(({ message, ...rest }) => {
      expect(typeof message).toBe('string');
      expect(message.length).toBeGreaterThan(0);
      return rest;
    });
}

describe('validateGraph', () => {
  it('accepts a valid graph and returns it parsed, with no issues', () => {
    const result = validateGraph(
      graph([node('a', 'text'), node('b', 'upper')], [edge('e1', 'a.text', 'b.text')]),
      registry,
    );
    expect(result.ok).toBe(true);
    expect(result.issues).toEqual([]);
    if (result.ok) {
      expect(result.graph.nodes.map((n) => n.id)).toEqual(['a', 'b']);
      // The graph format fills in an empty config.
      expect(result.graph.nodes[0]?.config).toEqual({});
    }
  });

  it('MALFORMED_GRAPH: names the path of a value that does not fit the format', () => {
    const issues = issuesOf({ version: 1, nodes: [{ id: 'a' }], edges: [] });
    expect(withCode(issues, 'MALFORMED_GRAPH')).toEqual([
      { code: 'MALFORMED_GRAPH', path: ['nodes', 0, 'type'] },
    ]);
    expect(issues).toHaveLength(1);
  });

  it('MALFORMED_GRAPH: reports every malformed part, and non-objects are malformed', () => {
    const issues = issuesOf({ version: 1, nodes: [{ id: '', type: 'text' }], edges: [{ id: 'e1' }] });
    expect(issues.every((i) => i.code === 'MALFORMED_GRAPH')).toBe(true);
    const paths = issues.map((i) => i.path);
    expect(paths).toContainEqual(['nodes', 0, 'id']);
    expect(paths).toContainEqual(['edges', 0, 'source']);
    expect(paths).toContainEqual(['edges', 0, 'targetHandle']);

    expect(issuesOf('not a graph').map((i) => i.code)).toEqual(['MALFORMED_GRAPH']);
    expect(issuesOf(null).map((i) => i.code)).toEqual(['MALFORMED_GRAPH']);
  });

  it('UNSUPPORTED_VERSION: a graph of another format version', () => {
    const issues = issuesOf({ version: 2, nodes: [node('a', 'text')], edges: [] });
    expect(withCode(issues, 'UNSUPPORTED_VERSION')).toEqual([
      { code: 'UNSUPPORTED_VERSION', path: ['version'] },
    ]);
    expect(issues).toHaveLength(1);
  });

  it('DUPLICATE_NODE_ID: two nodes with the same id', () => {
    const issues = issuesOf(graph([node('a', 'text'), node('b', 'text'), node('a', 'text')]));
    expect(withCode(issues, 'DUPLICATE_NODE_ID')).toEqual([{ code: 'DUPLICATE_NODE_ID', nodeId: 'a' }]);
    expect(issues).toHaveLength(1);
  });

  it('DUPLICATE_EDGE_ID: two edges with the same id', () => {
    const issues = issuesOf(
      graph(
        [node('a', 'text'), node('b', 'upper')],
        [edge('e1', 'a.text', 'b.text'), edge('e1', 'a.text', 'b.suffix')],
      ),
    );
    expect(withCode(issues, 'DUPLICATE_EDGE_ID')).toEqual([{ code: 'DUPLICATE_EDGE_ID', edgeId: 'e1' }]);
    expect(issues).toHaveLength(1);
  });

  it('UNKNOWN_NODE_TYPE: a type the registry does not hold', () => {
    const issues = issuesOf(graph([node('a', 'text'), node('x', 'nope')]));
    expect(withCode(issues, 'UNKNOWN_NODE_TYPE')).toEqual([{ code: 'UNKNOWN_NODE_TYPE', nodeId: 'x' }]);
    expect(issues).toHaveLength(1);
    expect(issues[0]?.message).toContain('nope');
  });

  it('UNKNOWN_NODE: an edge from or to a node that is not in the graph', () => {
    const issues = issuesOf(
      graph(
        [node('a', 'text'), node('b', 'upper')],
        [
          edge('e1', 'a.text', 'b.text'),
          edge('e2', 'ghost.text', 'b.suffix'),
          edge('e3', 'a.text', 'phantom.x'),
        ],
      ),
    );
    expect(withCode(issues, 'UNKNOWN_NODE')).toEqual([
      { code: 'UNKNOWN_NODE', edgeId: 'e2' },
      { code: 'UNKNOWN_NODE', edgeId: 'e3' },
    ]);
    expect(issues.find((i) => i.edgeId === 'e2')?.message).toContain('ghost');
    expect(issues.find((i) => i.edgeId === 'e3')?.message).toContain('phantom');
    expect(issues).toHaveLength(2);
  });

  it('UNKNOWN_PORT: an edge from an output the source node does not have', () => {
    const issues = issuesOf(
      graph([node('a', 'text'), node('b', 'upper')], [edge('e1', 'a.title', 'b.text')]),
    );
    expect(withCode(issues, 'UNKNOWN_PORT')).toEqual([
      { code: 'UNKNOWN_PORT', edgeId: 'e1', nodeId: 'a', port: 'title' },
    ]);
    expect(issues).toHaveLength(1);
  });

  it('UNKNOWN_PORT: an edge into an input the target node does not have', () => {
    const issues = issuesOf(
      graph(
        [node('a', 'text'), node('b', 'upper')],
        [edge('e1', 'a.text', 'b.text'), edge('e2', 'a.text', 'b.prefix')],
      ),
    );
    expect(withCode(issues, 'UNKNOWN_PORT')).toEqual([
      { code: 'UNKNOWN_PORT', edgeId: 'e2', nodeId: 'b', port: 'prefix' },
    ]);
    expect(issues).toHaveLength(1);
  });

  describe('INCOMPATIBLE_PORTS', () => {
    it('a string output into a number input', () => {
      const issues = issuesOf(
        graph([node('a', 'text'), node('n', 'number.sink')], [edge('e1', 'a.text', 'n.n')]),
      );
      expect(withCode(issues, 'INCOMPATIBLE_PORTS')).toEqual([
        { code: 'INCOMPATIBLE_PORTS', edgeId: 'e1', nodeId: 'n', port: 'n' },
      ]);
      expect(issues).toHaveLength(1);
    });

    it('matching plain types are compatible (number into number)', () => {
      const result = validateGraph(
        graph([node('a', 'text'), node('n', 'number.sink')], [edge('e1', 'a.count', 'n.n')]),
        registry,
      );
      expect(result.issues).toEqual([]);
    });

    it('named port types must match: image into image is fine, video into image is not', () => {
      const ok = validateGraph(
        graph(
          [node('t', 'text'), node('g', 'image.gen'), node('s', 'image.sink')],
          [edge('e1', 't.text', 'g.prompt'), edge('e2', 'g.image', 's.image')],
        ),
        registry,
      );
      expect(ok.issues).toEqual([]);

      const issues = issuesOf(
        graph(
          [node('t', 'text'), node('g', 'image.gen'), node('s', 'image.sink')],
          [edge('e1', 't.text', 'g.prompt'), edge('e2', 'g.video', 's.image')],
        ),
      );
      expect(withCode(issues, 'INCOMPATIBLE_PORTS')).toEqual([
        { code: 'INCOMPATIBLE_PORTS', edgeId: 'e2', nodeId: 's', port: 'image' },
      ]);
      expect(issues).toHaveLength(1);
    });

    it('a named port type does not accept a plain string', () => {
      const issues = issuesOf(
        graph([node('t', 'text'), node('s', 'image.sink')], [edge('e1', 't.text', 's.image')]),
      );
      expect(withCode(issues, 'INCOMPATIBLE_PORTS')).toEqual([
        { code: 'INCOMPATIBLE_PORTS', edgeId: 'e1', nodeId: 's', port: 'image' },
      ]);
    });

    it('a z.unknown() input accepts any output', () => {
      for (const from of ['t.text', 't.count', 'g.image', 'g.video'] as const) {
        const result = validateGraph(
          graph(
            [node('t', 'text'), node('g', 'image.gen'), node('s', 'any.sink')],
            [edge('e1', 't.text', 'g.prompt'), edge('e2', from, 's.value')],
          ),
          registry,
        );
        expect(result.issues, from).toEqual([]);
      }
    });

    // Regression: annotations (description, title) used to make equal port types incompatible.
    it('a description on a port does not change its type (structurally equal schemas are compatible)', () => {
      const result = validateGraph(
        graph(
          [node('d', 'described.text'), node('u', 'upper')],
          [edge('e1', 'd.text', 'u.text'), edge('e2', 'd.heading', 'u.suffix')],
        ),
        registry,
      );
      expect(result.issues).toEqual([]);
    });
  });

  it('REQUIRED_INPUT_MISSING: a required input without an edge; optional inputs may stay unconnected', () => {
    const issues = issuesOf(graph([node('a', 'text'), node('b', 'upper'), node('n', 'number.sink')]));
    expect(withCode(issues, 'REQUIRED_INPUT_MISSING')).toEqual([
      { code: 'REQUIRED_INPUT_MISSING', nodeId: 'b', port: 'text' },
      { code: 'REQUIRED_INPUT_MISSING', nodeId: 'n', port: 'n' },
    ]);
    // `suffix` is optional: no issue for it.
    expect(issues.some((i) => i.port === 'suffix')).toBe(false);
    expect(issues).toHaveLength(2);
  });

  it('INPUT_ALREADY_CONNECTED: a second edge into the same input', () => {
    const issues = issuesOf(
      graph(
        [node('a', 'text'), node('c', 'text'), node('b', 'upper')],
        [edge('e1', 'a.text', 'b.text'), edge('e2', 'c.text', 'b.text')],
      ),
    );
    expect(withCode(issues, 'INPUT_ALREADY_CONNECTED')).toEqual([
      { code: 'INPUT_ALREADY_CONNECTED', edgeId: 'e2', nodeId: 'b', port: 'text' },
    ]);
    expect(issues[0]?.message).toContain('e1');
    expect(issues).toHaveLength(1);
  });

  describe('CYCLE', () => {
    it('names exactly the nodes of the cycle, not the nodes downstream or upstream of it', () => {
      const issues = issuesOf(
        graph(
          [
            node('root', 'text'),
            node('a', 'upper'),
            node('b', 'upper'),
            node('c', 'upper'),
            node('after', 'upper'),
          ],
          [
            edge('e0', 'root.text', 'a.suffix'),
            edge('e1', 'a.text', 'b.text'),
            edge('e2', 'b.text', 'c.text'),
            edge('e3', 'c.text', 'a.text'),
            edge('e4', 'c.text', 'after.text'),
          ],
        ),
      );
      const cycles = withCode(issues, 'CYCLE');
      expect(cycles).toHaveLength(1);
      expect([...(cycles[0]?.nodeIds ?? [])].sort()).toEqual(['a', 'b', 'c']);
      expect(['a', 'b', 'c']).toContain(cycles[0]?.nodeId);
      expect(issues).toHaveLength(1);
    });

    it('a self-loop is a cycle of one node', () => {
      const issues = issuesOf(
        graph(
          [node('root', 'text'), node('a', 'upper')],
          [edge('e0', 'root.text', 'a.suffix'), edge('e1', 'a.text', 'a.text')],
        ),
      );
      expect(withCode(issues, 'CYCLE')).toEqual([{ code: 'CYCLE', nodeIds: ['a'], nodeId: 'a' }]);
      expect(issues).toHaveLength(1);
    });

    it('two separate cycles give two issues', () => {
      const issues = issuesOf(
        graph(
          [
            node('a', 'upper'),
            node('b', 'upper'),
            node('x', 'upper'),
            node('y', 'upper'),
            node('z', 'upper'),
          ],
          [
            edge('e1', 'a.text', 'b.text'),
            edge('e2', 'b.text', 'a.text'),
            edge('e3', 'x.text', 'y.text'),
            edge('e4', 'y.text', 'x.text'),
            edge('e5', 'y.text', 'z.text'),
          ],
        ),
      );
      const cycles = withCode(issues, 'CYCLE')
        .map((c) => [...(c.nodeIds ?? [])].sort())
        .sort((p, q) => (p[0] ?? '').localeCompare(q[0] ?? ''));
      expect(cycles).toEqual([
        ['a', 'b'],
        ['x', 'y'],
      ]);
      expect(issues).toHaveLength(2);
    });
  });

  it('INVALID_CONFIG: a config that does not match the schema, with the zod path', () => {
    const issues = issuesOf(graph([node('a', 'text', { value: 42, size: 'huge' }), node('p', 'priced', {})]));
    const invalid = withCode(issues, 'INVALID_CONFIG');
    expect(invalid).toHaveLength(3);
    expect(invalid).toContainEqual({ code: 'INVALID_CONFIG', nodeId: 'a', path: ['value'] });
    expect(invalid).toContainEqual({ code: 'INVALID_CONFIG', nodeId: 'a', path: ['size'] });
    expect(invalid).toContainEqual({ code: 'INVALID_CONFIG', nodeId: 'p', path: ['price'] });
    expect(issues).toHaveLength(3);
  });

  it('INVALID_COST: a cost estimate that is negative, fractional or not a number', () => {
    const issues = issuesOf(
      graph([
        node('ok', 'priced', { price: 3 }),
        node('neg', 'priced', { price: -1 }),
        node('frac', 'priced', { price: 1.5 }),
        node('nan', 'priced', { price: Number.NaN }),
      ]),
    );
    // NaN is not a valid zod number, so `nan` is an INVALID_CONFIG issue, not a cost one.
    expect(withCode(issues, 'INVALID_COST')).toEqual([
      { code: 'INVALID_COST', nodeId: 'neg' },
      { code: 'INVALID_COST', nodeId: 'frac' },
    ]);
    expect(withCode(issues, 'INVALID_CONFIG')).toEqual([
      { code: 'INVALID_CONFIG', nodeId: 'nan', path: ['price'] },
    ]);
    expect(issues).toHaveLength(3);
  });

  it('INVALID_COST: an unsafe integer cost', () => {
    const issues = issuesOf(graph([node('big', 'priced', { price: Number.MAX_SAFE_INTEGER + 2 })]));
    expect(withCode(issues, 'INVALID_COST')).toEqual([{ code: 'INVALID_COST', nodeId: 'big' }]);
  });

  it('returns every problem of a graph at once', () => {
    const issues = issuesOf(
      graph(
        [
          node('a', 'text', { value: 7 }),
          node('a', 'text'),
          node('u', 'upper'),
          node('n', 'number.sink'),
          node('x', 'mystery'),
          node('p', 'priced', { price: -5 }),
        ],
        [edge('e1', 'a.text', 'n.n'), edge('e1', 'a.text', 'u.nope'), edge('e3', 'ghost.text', 'u.suffix')],
      ),
    );
    const summary = issues.map(({ message: _message, ...rest }) => rest);
    expect(summary).toEqual(
      expect.arrayContaining([
        { code: 'INVALID_CONFIG', nodeId: 'a', path: ['value'] },
        { code: 'DUPLICATE_NODE_ID', nodeId: 'a' },
        { code: 'UNKNOWN_NODE_TYPE', nodeId: 'x' },
        { code: 'INVALID_COST', nodeId: 'p' },
        { code: 'INCOMPATIBLE_PORTS', edgeId: 'e1', nodeId: 'n', port: 'n' },
        { code: 'DUPLICATE_EDGE_ID', edgeId: 'e1' },
        { code: 'UNKNOWN_PORT', edgeId: 'e1', nodeId: 'u', port: 'nope' },
        { code: 'UNKNOWN_NODE', edgeId: 'e3' },
        { code: 'REQUIRED_INPUT_MISSING', nodeId: 'u', port: 'text' },
      ]),
    );
    expect(issues).toHaveLength(9);
  });
});

describe('engine.start of an invalid graph', () => {
  it('throws GraphValidationError synchronously with every issue, and runs no node', () => {
    const run = vi.fn(() => ({ text: 'x', count: 1 }));
    const spy = defineNode({ ...text, run });
    const engine = createEngine({ registry: createNodeRegistry([spy, upper]) });
    const invalid = graph(
      [node('a', 'text'), node('b', 'upper'), node('c', 'upper')],
      [edge('e1', 'a.text', 'b.text'), edge('e2', 'a.count', 'c.text')],
    );

    let thrown: unknown;
    try {
      engine.start(invalid);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(GraphValidationError);
    const error = thrown as GraphValidationError;
    expect(error.code).toBe('GRAPH_INVALID');
    expect(error.retryable).toBe(false);
    expect(error.issues.map(({ message: _message, ...rest }) => rest)).toEqual([
      { code: 'INCOMPATIBLE_PORTS', edgeId: 'e2', nodeId: 'c', port: 'text' },
    ]);
    expect(run).not.toHaveBeenCalled();

    expect(() => engine.estimateCost(invalid)).toThrow(GraphValidationError);
    expect(engine.validate(invalid).ok).toBe(false);
  });

  it('engine.run rejects with GraphValidationError, before any node runs', async () => {
    const run = vi.fn(() => ({ text: 'x', count: 1 }));
    const engine = createEngine({ registry: createNodeRegistry([defineNode({ ...text, run })]) });
    // Whether `run` throws or rejects, the caller's `await` sees the GraphValidationError.
    await expect((async () => engine.run(graph([node('a', 'nope')])))()).rejects.toBeInstanceOf(
      GraphValidationError,
    );
    expect(run).not.toHaveBeenCalled();
  });
});

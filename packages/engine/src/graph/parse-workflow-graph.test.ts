import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseWorkflowGraph } from './parse-workflow-graph.ts';
import { WorkflowGraph } from './workflow-graph.ts';

const id = fc.oneof(fc.string({ maxLength: 4 }), fc.constant(''), fc.integer(), fc.constant(undefined));
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.oneof(arb, fc.constant(undefined), fc.anything());
const node = fc.record(
  {
    id,
    type: id,
    config: maybe(fc.dictionary(fc.string({ maxLength: 3 }), fc.jsonValue())),
    position: maybe(fc.record({ x: fc.double(), y: fc.double() })),
    label: maybe(fc.string()),
    extra: fc.anything(),
  },
  { requiredKeys: [] },
);
const edge = fc.record(
  { id, source: id, sourceHandle: id, target: id, targetHandle: id, extra: fc.anything() },
  { requiredKeys: [] },
);
const graph = fc.record(
  {
    version: fc.oneof(fc.constant(1), fc.constant(2), fc.anything()),
    nodes: maybe(fc.array(node, { maxLength: 4 })),
    edges: maybe(fc.array(edge, { maxLength: 4 })),
    metadata: maybe(fc.dictionary(fc.string({ maxLength: 3 }), fc.jsonValue())),
  },
  { requiredKeys: [] },
);

describe('parseWorkflowGraph', () => {
  it('agrees with the WorkflowGraph schema on success and on the parsed value', () => {
    fc.assert(
      fc.property(fc.oneof(graph, fc.anything()), (input) => {
        const fast = parseWorkflowGraph(input);
        const slow = WorkflowGraph.safeParse(input);
        expect(fast.success).toBe(slow.success);
        if (fast.success && slow.success) expect(fast.data).toStrictEqual(slow.data);
      }),
      { numRuns: 2000 },
    );
  });

  it('falls back to zod for exotic objects, with its issues', () => {
    const result = parseWorkflowGraph({ version: 1, nodes: [{ id: 'a', type: 't', config: new Date(0) }] });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['nodes', 0, 'config']);
  });
});

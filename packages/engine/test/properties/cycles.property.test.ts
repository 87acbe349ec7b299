import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine, GraphValidationError, validateGraph } from '../../src/index.ts';
import {
  ancestorsOf,
  BACK_PORT,
  dagArb,
  fcParams,
  type NodeProbe,
  registry,
  type SpecEdge,
  toGraph,
} from './random-dag.ts';

describe('graph validation properties', () => {
  it('accepts every random DAG', () => {
    fc.assert(
      fc.property(dagArb({ maxNodes: 300, maxCost: 50, keys: 3 }), (spec) => {
        const result = validateGraph(toGraph(spec), registry);
        expect(result.issues).toEqual([]);
        expect(result.ok).toBe(true);
        const total = spec.nodes.reduce((sum, n) => sum + n.cost, 0);
        expect(createEngine({ registry, services: { probe: {} } }).estimateCost(toGraph(spec)).total).toBe(
          total,
        );
      }),
      fcParams(80),
    );
  }, 60_000);

  it('rejects every graph with a back edge: a CYCLE issue names its endpoints, and nothing runs', () => {
    const backEdges = fc.uniqueArray(fc.record({ from: fc.nat(), pick: fc.nat() }), {
      minLength: 1,
      maxLength: 3,
      selector: (b) => b.from,
    });
    fc.assert(
      fc.property(dagArb({ maxNodes: 300 }), backEdges, (spec, raw) => {
        // A back edge j -> i where i is j itself or one of its ancestors closes a cycle. Each
        // back edge goes into the reserved `loop` port of a distinct target.
        const extra: SpecEdge[] = [];
        const targets = new Set<number>();
        for (const { from, pick } of raw) {
          const j = from % spec.nodes.length;
          const candidates = [j, ...ancestorsOf(spec, j)].filter((i) => !targets.has(i));
          if (candidates.length === 0) continue;
          const i = candidates[pick % candidates.length]!;
          targets.add(i);
          extra.push({ from: j, to: i, port: BACK_PORT });
        }
        fc.pre(extra.length > 0);
        const graph = toGraph(spec, extra);

        const result = validateGraph(graph, registry);
        expect(result.ok).toBe(false);
        const cycles = result.issues.filter((issue) => issue.code === 'CYCLE');
        expect(result.issues.filter((issue) => issue.code !== 'CYCLE')).toEqual([]);
        for (const e of extra) {
          const ends = [spec.nodes[e.from]!.id, spec.nodes[e.to]!.id];
          const covering = cycles.filter((c) => ends.every((id) => c.nodeIds?.includes(id) === true));
          expect(covering.length, `a CYCLE issue naming ${ends.join(' and ')}`).toBeGreaterThanOrEqual(1);
        }

        let ran = 0;
        const probe: NodeProbe = {
          enter: () => {
            ran++;
          },
        };
        const engine = createEngine({ registry, services: { probe } });
        let thrown: unknown;
        try {
          engine.start(graph);
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(GraphValidationError);
        expect((thrown as GraphValidationError).issues.some((issue) => issue.code === 'CYCLE')).toBe(true);
        expect(ran).toBe(0);
      }),
      fcParams(80),
    );
  }, 60_000);
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine, type RunEvent } from '../../src/index.ts';
import {
  dagArb,
  expectedOutputs,
  fcParams,
  type NodeProbe,
  parentsOf,
  registry,
  toGraph,
} from './random-dag.ts';

describe('scheduling properties (random DAGs)', () => {
  it('runs every node exactly once, and only after all its upstream nodes completed', async () => {
    await fc.assert(
      fc.asyncProperty(
        dagArb({ maxNodes: 250 }),
        fc.integer({ min: 1, max: 8 }),
        async (spec, concurrency) => {
          let clock = 0;
          const starts = new Map<string, number[]>();
          const ends = new Map<string, number[]>();
          const probe: NodeProbe = {
            enter: (id) => {
              starts.set(id, [...(starts.get(id) ?? []), ++clock]);
            },
            exit: (id) => {
              ends.set(id, [...(ends.get(id) ?? []), ++clock]);
            },
          };
          const events: RunEvent[] = [];
          const engine = createEngine({ registry, concurrency, services: { probe } });
          const outcome = await engine.run(toGraph(spec), {
            onEvent: (e) => events.push(e),
          });

          expect(outcome.status).toBe('completed');
          expect(outcome.outputs).toEqual(expectedOutputs(spec));
          const violations: string[] = [];
          for (const { id } of spec.nodes) {
            const ran = starts.get(id)?.length ?? 0;
            const ended = ends.get(id)?.length ?? 0;
            if (ran !== 1 || ended !== 1) violations.push(`${id} started ${ran} and ended ${ended} times`);
          }
          const parents = parentsOf(spec);
          const seqOf = (type: string) => {
            const seq = new Map<string, number>();
            for (const e of events) if (e.type === type && 'nodeId' in e) seq.set(e.nodeId, e.seq);
            return seq;
          };
          const startedSeq = seqOf('node.started');
          const completedSeq = seqOf('node.completed');
          spec.nodes.forEach((n, i) => {
            const start = starts.get(n.id)?.[0] ?? 0;
            for (const p of parents[i]!) {
              const up = spec.nodes[p]!.id;
              if (!(start > (ends.get(up)?.[0] ?? Number.POSITIVE_INFINITY)))
                violations.push(`the body of ${n.id} started before its upstream ${up} ended`);
              if (!((startedSeq.get(n.id) ?? 0) > (completedSeq.get(up) ?? Number.POSITIVE_INFINITY)))
                violations.push(`node.started of ${n.id} came before node.completed of its upstream ${up}`);
            }
          });
          expect(violations).toEqual([]);
          expect(events.filter((e) => e.type === 'node.started')).toHaveLength(spec.nodes.length);
          expect(events.filter((e) => e.type === 'node.completed')).toHaveLength(spec.nodes.length);
        },
      ),
      fcParams(60),
    );
  }, 60_000);

  it('never exceeds the run concurrency limit, nor one in flight per concurrency key', async () => {
    await fc.assert(
      fc.asyncProperty(
        dagArb({ maxNodes: 250, keys: 4, macrotaskPerMille: 300 }),
        fc.integer({ min: 1, max: 8 }),
        fc.boolean(),
        async (spec, concurrency, keyed) => {
          let inFlight = 0;
          let maxInFlight = 0;
          const perKey = new Map<string, number>();
          const violations: string[] = [];
          const probe: NodeProbe = {
            enter: (id, config) => {
              inFlight++;
              maxInFlight = Math.max(maxInFlight, inFlight);
              if (inFlight > concurrency)
                violations.push(`${inFlight} in flight at ${id} (limit ${concurrency})`);
              if (keyed && config.key !== undefined) {
                const k = (perKey.get(config.key) ?? 0) + 1;
                perKey.set(config.key, k);
                if (k > 1) violations.push(`${k} in flight on key ${config.key} at ${id}`);
              }
            },
            exit: (_id, config) => {
              inFlight--;
              if (keyed && config.key !== undefined) perKey.set(config.key, perKey.get(config.key)! - 1);
            },
          };
          const engine = createEngine({
            registry,
            concurrency,
            ...(keyed ? { keyConcurrency: 1 } : {}),
            services: { probe },
          });
          const outcome = await engine.run(toGraph(spec));
          expect(violations).toEqual([]);
          expect(outcome.status).toBe('completed');
          expect(inFlight).toBe(0);
          expect(maxInFlight).toBeLessThanOrEqual(concurrency);
        },
      ),
      fcParams(60),
    );
  }, 60_000);
});

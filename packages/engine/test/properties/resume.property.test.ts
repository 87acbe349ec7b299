import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine, createMemoryCheckpointStore, type FailurePolicy } from '../../src/index.ts';
import { crashAndResume } from './crash-harness.ts';
import {
  createLedger,
  dagArb,
  expectedOutputs,
  fcParams,
  killArb,
  killTrigger,
  registry,
  toGraph,
} from './random-dag.ts';

describe('crash and resume properties (random DAGs)', () => {
  it('a resumed run completes, reruns only unfinished nodes, once each, and yields the reference outputs', async () => {
    await fc.assert(
      fc.asyncProperty(
        dagArb({ maxNodes: 120, macrotaskPerMille: 300 }),
        fc.integer({ min: 1, max: 8 }),
        killArb,
        async (spec, concurrency, kill) => {
          const n = spec.nodes.length;
          // Writes of an uninterrupted run: createRun, one completed checkpoint per node, the final saveRun.
          const trigger = killTrigger(kill, n + 2, n);
          const reference = await createEngine({ registry, concurrency, services: { probe: {} } }).run(
            toGraph(spec),
          );
          expect(reference.status).toBe('completed');
          expect(reference.outputs).toEqual(expectedOutputs(spec));

          const r = await crashAndResume({ spec, trigger, hang: kill.hang, concurrency });

          expect(r.sw.killed).toBe(true);
          expect(r.outcome.status).toBe('completed');
          expect(r.outcome.outputs).toEqual(reference.outputs);

          const completedAtResume = new Set(
            r.atResume.nodes.filter((node) => node.status === 'completed').map((node) => node.nodeId),
          );
          for (const id of r.sw.completedBeforeKill) expect(completedAtResume.has(id)).toBe(true);
          const stillRunning = r.atResume.run.status === 'running';
          const violations: string[] = [];
          for (const { id } of spec.nodes) {
            const again = r.resumedEntries.get(id) ?? 0;
            // Completed checkpoints are never run again; everything else runs exactly once more.
            if (r.sw.completedBeforeKill.has(id) && again > 0)
              violations.push(
                `${id} was checkpointed completed before the kill, yet ran ${again} more times`,
              );
            if (completedAtResume.has(id) && again > 0)
              violations.push(`${id} was stored completed, yet ran ${again} more times`);
            if (!completedAtResume.has(id) && again !== (stillRunning ? 1 : 0))
              violations.push(`${id} was unfinished at the kill and ran ${again} times on resume`);
            if (r.inFlightAtKill.has(id) && again > 1)
              violations.push(`${id} was in flight at the kill and ran ${again} times on resume`);
            if ((r.deadEntries.get(id) ?? 0) + again < 1) violations.push(`${id} never ran`);
          }
          expect(violations).toEqual([]);
        },
      ),
      fcParams(60),
    );
  }, 60_000);

  // Regression guard. Failed on fc78c99: under stop-all, a node whose body returned just before the
  // stop still got its `completed` checkpoint, but the live run left it out of its outputs (and did
  // not charge it); resuming the ended run rebuilt the outcome from the store and returned it.
  it('resuming an ended run returns the outcome it ended with, and runs nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        dagArb({ maxNodes: 80, maxCost: 20, failPerMille: 60, macrotaskPerMille: 300 }),
        fc.constantFrom<FailurePolicy>('finish-branches', 'stop-all'),
        fc.integer({ min: 1, max: 8 }),
        async (spec, failurePolicy, concurrency) => {
          let entries = 0;
          const ledger = createLedger();
          const engine = createEngine({
            registry,
            store: createMemoryCheckpointStore(),
            billing: ledger.hooks,
            concurrency,
            failurePolicy,
            services: {
              probe: {
                enter: () => {
                  entries++;
                },
              },
            },
          });
          const live = await engine.run(toGraph(spec), { runId: 'ended-run' });
          const ran = entries;
          const stored = await engine.resume('ended-run').result;
          expect(entries).toBe(ran);
          expect(stored.status).toBe(live.status);
          expect(stored.outputs).toEqual(live.outputs);
          const { reserved, captured, released } = live.cost;
          expect(stored.cost).toMatchObject({ reserved, captured, released });
        },
      ),
      fcParams(60),
    );
  }, 60_000);
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkLedger,
  checkRelease,
  delaysArb,
  policyArb,
  specArb,
  succeededIn,
  totalCost,
} from './billing-checks.ts';
import { crashAndResume } from './crash-harness.ts';
import {
  createLedger,
  expectedOutputs,
  fcParams,
  type KillHang,
  killArb,
  killTrigger,
} from './random-dag.ts';

describe('billing properties across a crash and a resume (random DAGs, costs and failures)', () => {
  it('keeps the ledger balanced across a crash and a resume', async () => {
    await fc.assert(
      fc.asyncProperty(
        specArb,
        policyArb,
        fc.integer({ min: 1, max: 8 }),
        delaysArb,
        killArb.filter((kill) => kill.kind !== 'end'),
        async (spec, policy, concurrency, delays, kill) => {
          const n = spec.nodes.length;
          // Writes of an uninterrupted run: createRun, the reservation, two per node, the final
          // saveRun. A kill between the release and the final saveRun is the next property's case.
          const trigger = killTrigger(kill, 2 * n + 3, n, true);
          const ledger = createLedger({ delays });
          const r = await crashAndResume({
            spec,
            trigger,
            hang: kill.hang,
            concurrency,
            failurePolicy: policy,
            ledger,
          });
          const expected = expectedOutputs(spec);
          for (const [id, value] of Object.entries(r.outcome.outputs)) expect(value).toEqual(expected[id]);
          const failing = spec.nodes.some((node) => node.fail);
          expect(r.outcome.status).toBe(failing ? 'failed' : 'completed');
          if (r.atResume.run.status === 'running') {
            // The resumed instance finished the run: its outcome is the run's.
            if (!failing || policy === 'finish-branches') expect(r.outcome.outputs).toEqual(expected);
            checkLedger({
              spec,
              ledger,
              outcome: r.outcome,
              events: r.resumedEvents,
              succeeded: succeededIn(r.resumedEvents, r.outcome, r.atResume),
              crashed: r.sw.killed,
            });
          } else {
            // The first instance ended the run before it died: what it completed was charged.
            const succeeded = new Set<string>();
            for (const e of r.deadEvents) if (e.type === 'node.completed') succeeded.add(e.nodeId);
            checkLedger({
              spec,
              ledger,
              outcome: r.outcome,
              events: r.deadEvents,
              succeeded,
              crashed: r.sw.killed,
            });
          }
        },
      ),
      fcParams(60),
    );
  }, 60_000);

  // FAILS (engine bug, open): `finish()` calls `billing.release` and only then saves the run's final
  // status. A crash between the two leaves the run `running`, so `resume` schedules the unfinished
  // nodes again. Under stop-all those are the nodes the failure skipped: they run, succeed and are
  // captured against a hold that was already released (captured + released > reserved). (On
  // fc78c99, before `release` had an idempotency key, the release itself was also applied twice.)
  it('releases once, and stays balanced, when the crash comes between the release and the final save', async () => {
    await fc.assert(
      fc.asyncProperty(
        specArb.filter((spec) => totalCost(spec) > 0),
        policyArb,
        fc.integer({ min: 1, max: 8 }),
        delaysArb,
        fc.constantFrom<KillHang>('both', 'store'),
        async (spec, policy, concurrency, delays, hang) => {
          const ledger = createLedger({ delays });
          const r = await crashAndResume({
            spec,
            trigger: { kind: 'end', applied: false },
            hang,
            concurrency,
            failurePolicy: policy,
            ledger,
          });
          expect(r.sw.killed).toBe(true);
          expect(ledger.anomalies).toEqual([]);
          const holds = [...ledger.holds.values()];
          expect(holds).toHaveLength(1);
          checkRelease(ledger, holds[0]!, true);
          expect(holds[0]!.captured + holds[0]!.released, 'reserved == captured + released').toBe(
            holds[0]!.amount,
          );
        },
      ),
      fcParams(30),
    );
  }, 60_000);
});

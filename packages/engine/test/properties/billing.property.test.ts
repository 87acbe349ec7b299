import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FailurePolicy } from '../../src/index.ts';
import {
  cancelledButCharged,
  checkLedger,
  delaysArb,
  policyArb,
  runWithLedger,
  specArb,
  succeededIn,
  totalCost,
} from './billing-checks.ts';
import { type DagSpec, expectedOutputs, fcParams, fractionArb, scale } from './random-dag.ts';

describe('billing properties (random DAGs, costs and failures)', () => {
  it('keeps the ledger balanced under failures and both failure policies', async () => {
    await fc.assert(
      fc.asyncProperty(
        specArb,
        policyArb,
        fc.integer({ min: 1, max: 8 }),
        delaysArb,
        async (spec, policy, concurrency, delays) => {
          const { ledger, outcome, events } = await runWithLedger({ spec, policy, concurrency, delays });
          const failing = spec.nodes.some((n) => n.fail);
          expect(outcome.status).toBe(failing ? 'failed' : 'completed');
          const expected = expectedOutputs(spec);
          if (policy === 'finish-branches') expect(outcome.outputs).toEqual(expected);
          else for (const [id, value] of Object.entries(outcome.outputs)) expect(value).toEqual(expected[id]);
          checkLedger({ spec, ledger, outcome, events, succeeded: succeededIn(events, outcome) });
        },
      ),
      fcParams(60),
    );
  }, 60_000);

  // Regression guard. Failed on fc78c99: when the run stopped (stop-all after a failure, or a cancel)
  // while a node that had already returned was saving its checkpoint or being captured, `stop()`
  // reported it `node.cancelled`, yet it then completed (`node.completed`) and was charged.
  it('never charges, nor completes, a node it reported cancelled', async () => {
    await fc.assert(
      fc.asyncProperty(
        specArb,
        fc.integer({ min: 1, max: 8 }),
        delaysArb,
        async (spec, concurrency, delays) => {
          const { ledger, events } = await runWithLedger({ spec, policy: 'stop-all', concurrency, delays });
          expect(cancelledButCharged(events, ledger)).toEqual([]);
        },
      ),
      fcParams(60),
    );
  }, 60_000);

  it('keeps the ledger balanced when the run is cancelled at any event', async () => {
    await fc.assert(
      fc.asyncProperty(
        specArb,
        policyArb,
        fc.integer({ min: 1, max: 8 }),
        delaysArb,
        fractionArb,
        async (spec, policy, concurrency, delays, at) => {
          const cancelAtEvent = scale(at, 1, 2 * spec.nodes.length + 3);
          const { ledger, outcome, events } = await runWithLedger({
            spec,
            policy,
            concurrency,
            delays,
            cancelAtEvent,
          });
          checkLedger({
            spec,
            ledger,
            outcome,
            events,
            succeeded: succeededIn(events, outcome),
            mayEndUnreserved: cancelAtEvent === 1,
          });
        },
      ),
      fcParams(60),
    );
  }, 60_000);

  /** Cancels before or while the hold is placed; the hold, if any, must be released in full. */
  const cancelDuringReserve =
    (when: 'started' | 'sync' | 'async') =>
    async (spec: DagSpec, policy: FailurePolicy, concurrency: number, delays: readonly number[]) => {
      const { ledger, outcome, events } = await runWithLedger({
        spec,
        policy,
        concurrency,
        delays,
        ...(when === 'started' ? { cancelAtEvent: 1 } : { cancelInReserve: when }),
      });
      expect(outcome.status).toBe('cancelled');
      expect(events.filter((e) => e.type === 'node.started')).toEqual([]);
      expect(ledger.captureCalls).toEqual([]);
      for (const hold of ledger.holds.values()) {
        expect(hold.releases, `hold ${hold.id} released once`).toBe(1);
        expect(hold.released).toBe(hold.amount);
      }
    };

  // Regression guard. Failed on fc78c99: a cancel before the hold was placed (from a `run.started`
  // listener, or while `reserve` was pending) ran `finish()` with no reservation, but `executeRun`
  // went on to call `reserve` (or kept the hold it returned): the hold was never released.
  it('releases the hold when the run is cancelled before or while it is reserved', async () => {
    await fc.assert(
      fc.asyncProperty(
        specArb.filter((spec) => totalCost(spec) > 0),
        policyArb,
        fc.integer({ min: 1, max: 8 }),
        delaysArb,
        fc.constantFrom('started' as const, 'async' as const),
        (spec, policy, concurrency, delays, when) =>
          cancelDuringReserve(when)(spec, policy, concurrency, delays),
      ),
      fcParams(30),
    );
  }, 60_000);

  // FAILS (engine bug, open, minor): a cancel made synchronously inside the host's `reserve` call
  // (e.g. the host aborts the run's signal while placing the hold) lands before `executeRun` has
  // registered the pending reserve in `inflight`: `finish()` sees no reservation and releases
  // nothing, then `reserve` resolves and the hold is kept, never released.
  it('releases the hold when the run is cancelled synchronously inside reserve', async () => {
    await fc.assert(
      fc.asyncProperty(
        specArb.filter((spec) => totalCost(spec) > 0),
        policyArb,
        fc.integer({ min: 1, max: 8 }),
        delaysArb,
        cancelDuringReserve('sync'),
      ),
      fcParams(30),
    );
  }, 60_000);

  it('runs no node when reserve refuses the hold', async () => {
    await fc.assert(
      fc.asyncProperty(
        specArb,
        policyArb,
        fc.integer({ min: 1, max: 8 }),
        delaysArb,
        async (spec, policy, concurrency, delays) => {
          const r = await runWithLedger({ spec, policy, concurrency, delays, refuse: true });
          if (totalCost(spec) === 0) {
            // Nothing to hold: reserve is never asked.
            expect(r.ledger.reserveCalls).toEqual([]);
            return;
          }
          expect(r.ledger.reserveCalls).toHaveLength(1);
          expect(r.entries).toBe(0);
          expect(r.events.filter((e) => e.type === 'node.started')).toEqual([]);
          expect(r.outcome.status).toBe('failed');
          if (r.outcome.status === 'failed') expect(r.outcome.error.code).toBe('INSUFFICIENT_CREDITS');
          expect(r.outcome.outputs).toEqual({});
          expect(r.ledger.captureCalls).toEqual([]);
          expect(r.ledger.releaseCalls).toEqual([]);
          expect(r.ledger.holds.size).toBe(0);
        },
      ),
      fcParams(60),
    );
  }, 60_000);
});

import { expect, it, onTestFailed } from 'vitest';
import { runChaos } from './chaos/chaos-harness.ts';
import { describePostgres } from './support/test-databases.ts';

/**
 * The short chaos run of CI (the long one: `pnpm chaos` in packages/server, 50+ kills). Real
 * worker processes, real PostgreSQL, provider fakes; seeded, so a failure replays with its seed.
 */
describePostgres('chaos: workers killed, frozen and stopped while they hold runs', ({ database }) => {
  const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
  it(`loses no run, charges no node twice, re-executes no checkpointed node (seed ${seed})`, async () => {
    const lines: string[] = [];
    const report = await runChaos({
      database: database(),
      seed,
      kills: 6,
      freezes: 1,
      terms: 1,
      workers: 2,
      inFlight: 6,
      log: (line) => lines.push(line),
    });
    console.log(JSON.stringify(report));
    // On a failure, the schedule (who was killed or frozen holding what) is what explains it.
    onTestFailed(() => console.log(lines.join('\n')));
    expect(report.kills).toBe(6);
    expect(report.freezes).toBe(1);
    expect(report.terms).toBe(1);
    expect({
      lost: report.lost,
      doubleCaptures: report.doubleCaptures,
      reExecutedCheckpointedNodes: report.reExecutedCheckpointedNodes,
      brokenEventStreams: report.brokenEventStreams,
      leakedHolds: report.leakedHolds,
      ledgerDrift: report.ledgerDrift,
      savedVideoJobsResubmitted: report.savedVideoJobsResubmitted,
      leasesLeftToLapse: report.leasesLeftToLapse,
      freezeTimeouts: report.freezeTimeouts,
      unexpectedExits: report.unexpectedExits,
      silentZombies: report.silentZombies,
    }).toEqual({
      lost: 0,
      doubleCaptures: 0,
      reExecutedCheckpointedNodes: 0,
      brokenEventStreams: 0,
      leakedHolds: 0,
      ledgerDrift: 0,
      savedVideoJobsResubmitted: 0,
      leasesLeftToLapse: 0,
      freezeTimeouts: 0,
      unexpectedExits: [],
      silentZombies: 0,
    });
    // Every duplicate submit is one the provider accepted whose id was never saved.
    expect(report.videoSubmitsInWindow).toBe(report.duplicateVideoSubmits);
    expect(report.completed).toBe(report.runs);
    // The frozen worker's runs were taken while it slept; woken, it said so instead of writing.
    expect(report.frozenRunsTakenOver).toBeGreaterThan(0);
    expect(report.zombieRejections).toBeGreaterThan(0);
  }, 300_000);
});

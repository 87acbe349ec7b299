/**
 * The long chaos run: `pnpm chaos` in packages/server (needs `TEST_DATABASE_URL`, a PostgreSQL
 * server it may create databases on). Options by environment: `CHAOS_SEED`, `CHAOS_KILLS`
 * (default 50), `CHAOS_FREEZES` (default 5), `CHAOS_TERMS` (default 5), `CHAOS_WORKERS` (default 3), `CHAOS_IN_FLIGHT`
 * (default 12). Prints the schedule as it goes and the report at the end; exits 1 when an
 * invariant broke.
 */
import { randomBytes } from 'node:crypto';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { openDatabase } from '../../src/db/open-database.ts';
import { adminQuery, withDatabase } from '../support/admin-database.ts';
import { runChaos } from './chaos-harness.ts';

const adminUrl = process.env.TEST_DATABASE_URL;
if (adminUrl === undefined || adminUrl === '') {
  console.error('Set TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test).');
  process.exit(2);
}
const number = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const seed = number('CHAOS_SEED', Date.now() % 1_000_000);
const name = `vidgenie_chaos_${process.pid}_${randomBytes(4).toString('hex')}`;
await adminQuery(adminUrl, `create database ${name}`);
const url = withDatabase(adminUrl, name);
const database = await openDatabase({ kind: 'postgres', url, maxConnections: 20 });
let failed = true;
try {
  await migrateToLatest(database.db);
  console.log(`chaos seed ${seed} on ${name}`);
  const report = await runChaos({
    database: { ...database, url, drop: async () => {} },
    seed,
    kills: number('CHAOS_KILLS', 50),
    freezes: number('CHAOS_FREEZES', 5),
    terms: number('CHAOS_TERMS', 5),
    workers: number('CHAOS_WORKERS', 3),
    inFlight: number('CHAOS_IN_FLIGHT', 12),
    log: (line) => console.log(`  ${new Date().toISOString().slice(11, 23)} ${line}`),
  });
  console.log(JSON.stringify(report, null, 2));
  failed =
    report.lost > 0 ||
    report.doubleCaptures > 0 ||
    report.reExecutedCheckpointedNodes > 0 ||
    report.brokenEventStreams > 0 ||
    report.leakedHolds > 0 ||
    report.ledgerDrift > 0 ||
    report.savedVideoJobsResubmitted > 0 ||
    report.leasesLeftToLapse > 0 ||
    report.freezeTimeouts > 0 ||
    report.unexpectedExits.length > 0 ||
    report.silentZombies > 0;
  console.log(failed ? `FAILED (replay with CHAOS_SEED=${seed})` : 'every invariant held');
} finally {
  await database.close();
  await adminQuery(adminUrl, `drop database if exists ${name} with (force)`);
}
process.exit(failed ? 1 : 0);

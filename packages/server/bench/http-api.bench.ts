/**
 * HTTP API benchmark (reliability.md, test 32): `GET /api/workflow/status/:runId` on the real server
 * (`vidgenie serve` on PostgreSQL, a session cookie, a completed run of the short-video template
 * with the local providers) against a bare Hono app in the same process launch answering
 * `GET /runs/:id` with one PostgreSQL lookup of the same row (node-server, a pool of 10 as the
 * server's): the floor of "Hono with a PG lookup" on this machine.
 *
 * Load comes from autocannon in a child process (so it does not share the servers' event loop):
 * first at full speed (BENCH_CONNECTIONS connections for BENCH_SECONDS) for each app's maximum
 * requests per second, then at 70 % of that maximum (`--overallRate`) for the latency there.
 * Goals: the server's maximum within about 2× of the bare app's (ratio ≥ 0.5), p99 < 50 ms at 70 %.
 * Ours answers with two statements (the session; the run's row, its hold and its stored events
 * together) where the bare app makes one, and an answer 30 times larger.
 *
 * Env: BENCH_SECONDS (per phase, default 10), BENCH_CONNECTIONS (default 32), BENCH_CPU_PROFILE (set:
 * prints where the server process's time went at its maximum), BENCH_DATABASE_URL or
 * TEST_DATABASE_URL (an admin URL; default postgres://postgres@127.0.0.1:5432/test). It creates
 * its own database and drops it. It asserts no timing; it exits 1 when a request failed or
 * answered anything but 200.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { serve } from '@hono/node-server';
import { shortVideoTemplate } from '@vidgenie/nodes';
import { Hono } from 'hono';
import pg from 'pg';
import { loadConfig } from '../src/config/server-config.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { openDatabase } from '../src/db/open-database.ts';
import { createLogger } from '../src/log/create-logger.ts';
import { startServer } from '../src/server/start-server.ts';
import { createServices } from '../src/services/create-services.ts';
import { adminQuery, withDatabase } from '../test/support/admin-database.ts';
import { startCpuProfile, summariseCpuProfile } from './cpu-profile.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ADMIN_URL =
  process.env.BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/test';
const GOAL = { ratio: 0.5, p99: 50 } as const;
const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon');
/** Set: prints where this process's time went while the server's maximum was measured. */
const PROFILE = process.env.BENCH_CPU_PROFILE !== undefined;

/** What autocannon's `--json` report says of one phase. */
interface Phase {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly failures: number;
}

/** Loads `url` from a child autocannon for SECONDS; `rate` caps the requests per second. */
async function load(url: string, headers: Record<string, string>, rate?: number): Promise<Phase> {
  const args = [AUTOCANNON, '-j', '-n', '-c', String(CONNECTIONS), '-d', String(SECONDS)];
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}=${value}`);
  if (rate !== undefined) args.push('-R', String(Math.round(rate)));
  args.push(url);
  const { stdout } = await promisify(execFile)(process.execPath, args, { maxBuffer: 16 * 1024 * 1024 });
  const report = JSON.parse(stdout) as {
    requests: { average: number };
    latency: { p50: number; p99: number };
    errors: number;
    timeouts: number;
    non2xx: number;
  };
  return {
    rps: report.requests.average,
    p50: report.latency.p50,
    p99: report.latency.p99,
    failures: report.errors + report.timeouts + report.non2xx,
  };
}

async function main(): Promise<void> {
  console.log(
    `HTTP API bench: GET a run's status, ${CONNECTIONS} connections, ${SECONDS} s per phase (autocannon in a child process)`,
  );
  const name = `vidgenie_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
  await adminQuery(ADMIN_URL, `create database ${name}`);
  const url = withDatabase(ADMIN_URL, name);
  const dataDir = mkdtempSync(join(tmpdir(), 'vidgenie-http-bench-'));
  const closers: (() => Promise<unknown>)[] = [];
  let failed = false;
  try {
    const database = await openDatabase({ kind: 'postgres', url });
    // Closed last: the services do not close a database they were given.
    closers.push(() => database.close());
    await migrateToLatest(database.db);
    const services = await createServices(
      loadConfig({
        NODE_ENV: 'production',
        DATABASE_URL: url,
        VIDGENIE_DATA_DIR: dataDir,
        VIDGENIE_ENCRYPTION_KEYS: `bench:${randomBytes(32).toString('base64')}:${new Date().toISOString().slice(0, 10)}`,
      }),
      { database, log: createLogger({ level: 'warn' }), rateLimitScale: 1000 },
    );
    closers.unshift(() => services.close());
    const server = await startServer(services, { port: 0, host: '127.0.0.1' });
    closers.unshift(async () => {
      server.closeConnections();
      await server.close();
    });
    const base = server.url;

    // A creator and one completed run of the template (local providers).
    const signup = await fetch(`${base}/api/auth/signup`, {
      method: 'POST',
      headers: { origin: base, 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'bench@example.com', password: `pw-${randomBytes(12).toString('hex')}` }),
    });
    const cookie = /((?:__Host-)?vidgenie_session=[^;]+)/.exec(signup.headers.get('set-cookie') ?? '')?.[1];
    if (signup.status !== 201 || cookie === undefined) throw new Error(`sign-up: ${signup.status}`);
    const headers = { origin: base, cookie, 'content-type': 'application/json' };
    const accepted = await fetch(`${base}/api/workflow/execute`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        graph: shortVideoTemplate({ prompt: 'a lighthouse in a storm', durationSeconds: 8 }),
      }),
    });
    if (accepted.status !== 202) throw new Error(`execute: ${accepted.status} ${await accepted.text()}`);
    const { runId } = (await accepted.json()) as { runId: string };
    const statusUrl = `${base}/api/workflow/status/${runId}`;
    for (const deadline = Date.now() + 120_000; ; ) {
      const status = (await (await fetch(statusUrl, { headers })).json()) as { status: string };
      if (status.status === 'completed') break;
      if (status.status !== 'queued' && status.status !== 'running') throw new Error(`run ${status.status}`);
      if (Date.now() > deadline) throw new Error('the run did not complete in 2 minutes');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    // The floor: a bare Hono app, one lookup of the same row.
    const pool = new pg.Pool({ connectionString: url, max: 10 });
    closers.push(() => pool.end());
    // As the server's pools do: an idle connection ended by the server (the database dropped at
    // the end) is no reason to crash.
    pool.on('error', () => undefined);
    const bare = new Hono().get('/runs/:id', async (c) => {
      const { rows } = await pool.query(
        'select id, user_id, status, estimated_cost, created_at, started_at, finished_at, error from runs where id = $1',
        [c.req.param('id')],
      );
      return rows[0] === undefined ? c.json({ error: 'not found' }, 404) : c.json(rows[0]);
    });
    const bareServer = serve({ fetch: bare.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((resolve) => bareServer.once('listening', resolve));
    closers.unshift(() => new Promise((resolve) => bareServer.close(resolve)));
    const bareUrl = `http://127.0.0.1:${(bareServer.address() as AddressInfo).port}/runs/${runId}`;

    // Warm both up, then the maximum of each, then 70 % of it.
    const short = async (target: string, with_: Record<string, string>) => {
      for (let i = 0; i < 200; i++) await fetch(target, { headers: with_ });
    };
    await short(bareUrl, {});
    await short(statusUrl, headers);
    const sizeOf = async (target: string, with_: Record<string, string>) =>
      (await (await fetch(target, { headers: with_ })).arrayBuffer()).byteLength;
    console.log(
      `answers: the bare app's ${await sizeOf(bareUrl, {})} bytes (the row), ours ${await sizeOf(statusUrl, headers)} bytes (the run, its nodes, outputs and graph)`,
    );
    const results: Record<'bare' | 'server', { max: Phase; at70: Phase }> = {} as never;
    for (const [label, target, with_] of [
      ['bare', bareUrl, {}],
      ['server', statusUrl, { cookie }],
    ] as const) {
      const stop = label === 'server' && PROFILE ? await startCpuProfile() : undefined;
      const max = await load(target, with_);
      if (stop !== undefined)
        for (const line of summariseCpuProfile(await stop(), 25)) console.log(`  ${line}`);
      const at70 = await load(target, with_, 0.7 * max.rps);
      results[label] = { max, at70 };
      console.log(
        `${label === 'bare' ? 'bare Hono + one PG lookup' : 'VidGenie GET /api/workflow/status/:runId'}: max ${max.rps.toFixed(0)} req/s (p50/p99 ${max.p50}/${max.p99} ms); at 70 % (${(0.7 * max.rps).toFixed(0)} req/s asked, ${at70.rps.toFixed(0)} served) p50/p99 ${at70.p50}/${at70.p99} ms; failed or not 200: ${max.failures + at70.failures}`,
      );
      if (max.failures + at70.failures > 0) failed = true;
    }
    const ratio = results.server.max.rps / results.bare.max.rps;
    const p99 = results.server.at70.p99;
    console.log(
      `SUMMARY the server's maximum is ${ratio.toFixed(2)} of the bare app's (${(1 / ratio).toFixed(1)}× slower) [${ratio >= GOAL.ratio ? 'met' : 'NOT met'}: within about 2×]; p99 at 70 % of its maximum ${p99} ms [${p99 < GOAL.p99 ? 'met' : 'NOT met'}: < ${GOAL.p99} ms]`,
    );
  } finally {
    for (const close of closers)
      await close().catch((error: unknown) => console.error('closing failed:', error));
    await adminQuery(ADMIN_URL, `drop database if exists ${name} with (force)`);
    rmSync(dataDir, { recursive: true, force: true });
  }
  if (failed) process.exitCode = 1;
}

await main();

/**
 * Durable engine overhead benchmark (reliability.md, tests 29 and 30): the engine with the server's
 * SQL checkpoint store and event sink on PostgreSQL, as `vidgenie serve` wires them (node saves
 * and events each on a connection of their own, requests' pool beside them), running graphs of
 * zero-latency no-op nodes, so that everything measured is ours: scheduling, the checkpoint
 * commit of each node, the run's own rows, and its events stored in the background.
 *
 * Phases, in one process launch:
 * 1. **Per node, one run at a time**: BENCH_RUNS runs of a 10-node linear DAG, one after the other.
 *    A node's overhead is enqueue → start → checkpoint commit: from its predecessor's commit (the
 *    run's start for the first) to its own (`node.completed` is emitted once its save committed),
 *    stamped with `performance.now()` in the event listener. Goals: per node p50 < 5 ms, p99 <
 *    25 ms; the whole run (start → outcome, its creation and final save included) p50 < 100 ms.
 *    The same runs on the engine's in-memory store are the baseline (the ratio printed), and the
 *    machine's floor for one statement is printed first.
 * 2. **Sustained throughput**: runs of the same DAG started at BENCH_RATE / 10 a second (an open
 *    loop: they arrive whatever the earlier ones' progress), for BENCH_SECONDS. Goal: ≥ 500 node
 *    executions/s sustained, with no growth in per-node latency (p99 of the last third against the
 *    first) and no growth in dead tuples (PostgreSQL's own count for the tables written, sampled
 *    every second; autovacuum on, as in production: judged only over 3 of its naps or more).
 * 3. **Ceiling**: BENCH_CONCURRENCY runs at once, each replaced as it ends, for
 *    BENCH_CEILING_SECONDS: the most node executions a second this machine takes.
 *
 * Runs are embedded-mode runs (no lease fence) of one user; no credits are held (the nodes cost
 * nothing), so no capture is written. The runs bench (`runs.bench.ts`) measures the whole server
 * with HTTP, leases, providers and media.
 *
 * Env: BENCH_RUNS (default 200), BENCH_RATE (node executions/s asked, default 500), BENCH_SECONDS
 * (default 60; the reliability suite asks 600), BENCH_CONCURRENCY (default 32),
 * BENCH_CEILING_SECONDS (default 10), BENCH_DATABASE_URL or TEST_DATABASE_URL (an admin URL; default
 * postgres://postgres@127.0.0.1:5432/test). It creates its own database and drops it. It asserts
 * no timing; it exits 1 when a run did not complete or an event was not stored.
 */
import { randomBytes } from 'node:crypto';
import {
  type CheckpointStore,
  createEngine,
  createMemoryCheckpointStore,
  createNodeRegistry,
  defineNode,
  type WorkflowGraphInput,
} from '@vidgenie/engine';
import { sql } from 'kysely';
import pino from 'pino';
import { z } from 'zod';
import { migrateToLatest } from '../src/db/migrate.ts';
import { type Database, openDatabase } from '../src/db/open-database.ts';
import { createRunEventBus } from '../src/runs/run-event-bus.ts';
import { createRunEventSink, type RunEventSink } from '../src/runs/run-event-sink.ts';
import { EVENT_BATCH_DELAY_MS } from '../src/runs/run-executor.ts';
import { createSqlCheckpointStore } from '../src/runs/sql-checkpoint-store.ts';
import { adminQuery, withDatabase } from '../test/support/admin-database.ts';
import { percentile } from './run-clients.ts';
import { formatStatementFloor, measureStatementFloor } from './statement-floor.ts';

const intEnv = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer.`);
  return value;
};
const RUNS = intEnv('BENCH_RUNS', 200);
const CONCURRENCY = intEnv('BENCH_CONCURRENCY', 32);
const SECONDS = intEnv('BENCH_SECONDS', 60);
const RATE = intEnv('BENCH_RATE', 500);
const CEILING_SECONDS = intEnv('BENCH_CEILING_SECONDS', 10);
/** Set in main: BENCH_VACUUM_SECONDS, or autovacuum's nap when the server has autovacuum off. */
let VACUUM_SECONDS = 0;
const NODES = 10;
const ADMIN_URL =
  process.env.BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/test';
const GOAL = { nodeP50: 5, nodeP99: 25, runP50: 100, nodesPerSecond: 500 } as const;
const USER_ID = 'usr_bench';
/** Tables a run writes: their dead tuples are watched during the throughput phase. */
const WRITTEN = ['runs', 'run_checkpoints', 'node_checkpoints', 'run_events'];

/** A zero-latency node: its input plus one. */
const step = defineNode({
  type: 'bench.step',
  version: 1,
  input: z.object({ in: z.number().optional() }),
  output: z.object({ out: z.number() }),
  config: z.object({}),
  run: ({ input }) => ({ out: (input.in ?? 0) + 1 }),
});
const registry = createNodeRegistry([step]);

/** n0 → n1 → … → n9. */
const chain: WorkflowGraphInput = {
  version: 1,
  nodes: Array.from({ length: NODES }, (_, i) => ({ id: `n${i}`, type: step.type, config: {} })),
  edges: Array.from({ length: NODES - 1 }, (_, i) => ({
    id: `e${i}`,
    source: `n${i}`,
    sourceHandle: 'out',
    target: `n${i + 1}`,
    targetHandle: 'in',
  })),
};

/** What one run measured: each node's enqueue → commit and the run's start → outcome, ms. */
interface RunTiming {
  readonly nodes: number[];
  readonly total: number;
  /** When it ended (performance.now()), for the throughput phase's thirds. */
  readonly endedAt: number;
}

type BenchEngine = ReturnType<typeof createEngine<typeof step>>;
/** Where a served run's rows and events go (none for the in-memory baseline). */
interface Served {
  readonly sink?: RunEventSink;
  readonly database?: Database;
}

/** Runs the chain once; its events go to `sink` (stored like a served run's) when given. */
async function runChain(engine: BenchEngine, store: Served): Promise<RunTiming> {
  const runId = `run_${randomBytes(9).toString('base64url')}`;
  if (store.database !== undefined) {
    // The row the API inserts when it accepts a run (events reference it).
    await sql`insert into runs (id, user_id, status, graph, estimated_cost)
              values (${runId}, ${USER_ID}, 'queued', ${JSON.stringify(chain)}::json, 0)`.execute(
      store.database.db,
    );
  }
  const writer = store.sink?.writer({ runId });
  const nodes: number[] = [];
  const began = performance.now();
  let last = began;
  const handle = engine.start(chain, {
    runId,
    onEvent: (event) => {
      const at = performance.now();
      if (event.type === 'run.started') last = at;
      else if (event.type === 'node.completed') {
        nodes.push(at - last);
        last = at;
      }
      writer?.push(event);
    },
  });
  const outcome = await handle.result;
  const total = performance.now() - began;
  if (outcome.status !== 'completed') throw new Error(`run ${runId} ended ${outcome.status}`);
  if (nodes.length !== NODES) throw new Error(`run ${runId} completed ${nodes.length} of ${NODES} nodes`);
  await writer?.flush();
  return { nodes, total, endedAt: performance.now() };
}

const fmt = (values: readonly number[]) =>
  `${percentile(values, 50).toFixed(2)}/${percentile(values, 99).toFixed(2)}`;
const met = (ok: boolean) => (ok ? 'met' : 'NOT met');

/** Dead tuples of the tables a run writes, and how many vacuums (auto or not) they had. */
async function deadTuples(database: Database): Promise<{ dead: number; vacuums: number }> {
  const { rows } = await sql<{ dead: number; vacuums: number }>`
    select coalesce(sum(n_dead_tup), 0)::int as dead,
           coalesce(sum(autovacuum_count + vacuum_count), 0)::int as vacuums
      from pg_stat_user_tables where relname in (${sql.join(WRITTEN)})`.execute(database.db);
  return rows[0] ?? { dead: 0, vacuums: 0 };
}

/** Autovacuum's default nap: a shorter phase cannot tell growth from a table not yet vacuumed. */
const AUTOVACUUM_NAP_SECONDS = 60;

/** Phase 2: starts a run every NODES / RATE s for SECONDS and waits for them all. */
async function openLoop(engine: BenchEngine, served: Served, database: Database) {
  const timings: RunTiming[] = [];
  const running: Promise<void>[] = [];
  const samples: { at: number; dead: number }[] = [];
  const began = performance.now();
  const durationMs = SECONDS * 1000;
  const interval = (NODES / RATE) * 1000;
  let started = 0;
  let lastSample = began;
  const before = await deadTuples(database);
  let lastVacuum = began;
  while (performance.now() - began < durationMs) {
    if (VACUUM_SECONDS > 0 && performance.now() - lastVacuum >= VACUUM_SECONDS * 1000) {
      lastVacuum = performance.now();
      // What autovacuum would do on a server where it is on (this one's may be off: see main).
      void sql`vacuum ${sql.join(WRITTEN.map((table) => sql.id(table)))}`.execute(database.db);
    }
    const due = Math.min(
      Math.floor((performance.now() - began) / interval) + 1,
      Math.ceil(durationMs / interval),
    );
    for (; started < due; started++)
      running.push(runChain(engine, served).then((timing) => void timings.push(timing)));
    if (performance.now() - lastSample >= 1000) {
      lastSample = performance.now();
      samples.push({ at: lastSample - began, dead: (await deadTuples(database)).dead });
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, interval / 2)));
  }
  await Promise.all(running);
  const elapsed = (performance.now() - began) / 1000;
  const after = await deadTuples(database);
  const third = durationMs / 3;
  const firstThird = timings.filter((run) => run.endedAt - began < third).flatMap((run) => run.nodes);
  const lastThird = timings
    .filter((run) => run.endedAt - began >= 2 * third && run.endedAt - began <= durationMs)
    .flatMap((run) => run.nodes);
  const growth = percentile(lastThird, 99) / percentile(firstThird, 99);
  const peak = (from: number, to: number) =>
    Math.max(
      0,
      ...samples.filter((sample) => sample.at >= from && sample.at < to).map((sample) => sample.dead),
    );
  const firstHalf = peak(0, durationMs / 2);
  const secondHalf = peak(durationMs / 2, durationMs + 1);
  const vacuums = after.vacuums - before.vacuums;
  const seen = `peak ${firstHalf} in the first half, ${secondHalf} in the second, ${vacuums} vacuum(s) of a table`;
  const deadVerdict =
    SECONDS < 3 * (VACUUM_SECONDS || AUTOVACUUM_NAP_SECONDS)
      ? `${seen} [not judged: shorter than 3 vacuum cycles]`
      : `${seen} [${met(secondHalf <= 1.5 * firstHalf)}]`;
  const nodesPerSecond = (timings.length * NODES) / elapsed;
  console.log(
    `sustained (${RATE} node executions/s asked for ${SECONDS} s): ${timings.length} runs in ${elapsed.toFixed(1)} s, ${nodesPerSecond.toFixed(0)} node executions/s; per node p50/p99 ${fmt(timings.flatMap((run) => run.nodes))} ms, first third ${fmt(firstThird)}, last third ${fmt(lastThird)}; dead tuples of ${WRITTEN.join(', ')}: ${deadVerdict}`,
  );
  return { runs: timings.length, nodesPerSecond, growth, deadVerdict };
}

/** Phase 3: CONCURRENCY runs at once for CEILING_SECONDS, each replaced as it ends. */
async function closedLoop(engine: BenchEngine, served: Served) {
  const timings: RunTiming[] = [];
  const began = performance.now();
  const deadline = began + CEILING_SECONDS * 1000;
  const lane = async () => {
    while (performance.now() < deadline) timings.push(await runChain(engine, served));
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  const elapsed = (performance.now() - began) / 1000;
  const nodesPerSecond = (timings.length * NODES) / elapsed;
  console.log(
    `ceiling (${CONCURRENCY} runs at once for ${CEILING_SECONDS} s): ${timings.length} runs, ${nodesPerSecond.toFixed(0)} node executions/s; per node p50/p99 ${fmt(timings.flatMap((run) => run.nodes))} ms`,
  );
  return { runs: timings.length, nodesPerSecond };
}

async function main(): Promise<void> {
  console.log(
    `durable engine overhead bench: ${NODES}-node linear DAG of zero-latency nodes; ${RUNS} runs one at a time, then ${RATE} node executions/s asked for ${SECONDS} s, then ${CONCURRENCY} runs at once for ${CEILING_SECONDS} s`,
  );
  const name = `vidgenie_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
  await adminQuery(ADMIN_URL, `create database ${name}`);
  const url = withDatabase(ADMIN_URL, name);
  const opened: Database[] = [];
  let failed = false;
  try {
    const floor = await measureStatementFloor(url);
    console.log(formatStatementFloor(floor));
    const database = await openDatabase({ kind: 'postgres', url });
    opened.push(database);
    const { rows: settings } = await sql<{ on: string }>`select current_setting('autovacuum') as on`.execute(
      database.db,
    );
    const autovacuum = settings[0]?.on === 'on';
    VACUUM_SECONDS = Number(process.env.BENCH_VACUUM_SECONDS ?? (autovacuum ? 0 : AUTOVACUUM_NAP_SECONDS));
    console.log(
      autovacuum
        ? 'autovacuum is on on this server'
        : `autovacuum is OFF on this server: the bench vacuums the tables it writes every ${VACUUM_SECONDS} s of the sustained phase, as autovacuum would at its default nap (BENCH_VACUUM_SECONDS=0: never)`,
    );
    await migrateToLatest(database.db);
    // As `vidgenie serve`: node saves and events on connections of their own.
    const nodeSaves = await openDatabase({ kind: 'postgres', url, maxConnections: 1 });
    const events = await openDatabase({ kind: 'postgres', url, maxConnections: 1 });
    opened.push(nodeSaves, events);
    await sql`insert into users (id, email, password_hash) values (${USER_ID}, 'bench@example.com', 'x')`.execute(
      database.db,
    );
    const sqlStore: CheckpointStore = createSqlCheckpointStore({
      db: database.db,
      nodeSavesDb: nodeSaves.db,
      captureOnCommit: true,
    });
    const sink = createRunEventSink({
      db: events.db,
      bus: createRunEventBus(),
      log: pino({ level: 'warn' }),
      batchDelayMs: EVENT_BATCH_DELAY_MS,
    });
    const durable = createEngine({ registry, store: sqlStore });
    const memory = createEngine({ registry, store: createMemoryCheckpointStore() });
    const served = { sink, database };

    // Warm-up: statement plans, JIT.
    for (let i = 0; i < 20; i++) {
      await runChain(durable, served);
      await runChain(memory, {});
    }

    // Phase 1: one run at a time, the durable and in-memory runs interleaved.
    const sequential = { durable: [] as RunTiming[], memory: [] as RunTiming[] };
    for (let i = 0; i < RUNS; i++) {
      sequential.durable.push(await runChain(durable, served));
      sequential.memory.push(await runChain(memory, {}));
    }
    const nodeTimes = sequential.durable.flatMap((run) => run.nodes);
    const runTimes = sequential.durable.map((run) => run.total);
    const memoryNodes = sequential.memory.flatMap((run) => run.nodes);
    const memoryRuns = sequential.memory.map((run) => run.total);
    const ratio = percentile(nodeTimes, 50) / percentile(memoryNodes, 50);
    console.log(
      `one at a time (${RUNS} runs): per node (enqueue → start → checkpoint commit) p50/p99 ${fmt(nodeTimes)} ms; run (start → outcome) ${fmt(runTimes)} ms`,
    );
    console.log(
      `  baseline, the same runs on the in-memory store: per node ${fmt(memoryNodes)} ms; run ${fmt(memoryRuns)} ms; ratio of per-node p50, durable to in-memory: ${ratio.toFixed(1)}; per-node p50 in this machine's back-to-back one-row inserts: ${(percentile(nodeTimes, 50) / floor.insert.hot).toFixed(1)}`,
    );

    // Phase 2: runs started at RATE / NODES a second whatever their progress (an open loop, as
    // creators' runs arrive), for SECONDS: the rate is sustained when the nodes keep up with it.
    const sustained = await openLoop(durable, served, database);
    // Phase 3: the ceiling: CONCURRENCY runs at once, each replaced as it ends.
    const ceiling = await closedLoop(durable, served);
    const { rows } = await sql<{ events: number }>`select count(*)::int as events from run_events`.execute(
      database.db,
    );
    // Every run stores run.started, node.started and node.completed per node, and run.completed.
    const runsMade = 20 + RUNS + sustained.runs + ceiling.runs;
    const expectedEvents = runsMade * (2 + 2 * NODES);
    if (rows[0]?.events !== expectedEvents) {
      failed = true;
      console.log(`events stored: ${rows[0]?.events}, expected ${expectedEvents} (${runsMade} runs)`);
    }

    const nodeP50 = percentile(nodeTimes, 50);
    const nodeP99 = percentile(nodeTimes, 99);
    const runP50 = percentile(runTimes, 50);
    const sustainedOk = sustained.nodesPerSecond >= 0.98 * RATE && sustained.growth < 1.5;
    console.log(
      `SUMMARY per node p50 ${nodeP50.toFixed(2)} ms [${met(nodeP50 < GOAL.nodeP50)}], p99 ${nodeP99.toFixed(2)} ms [${met(nodeP99 < GOAL.nodeP99)}]; ${NODES}-node run p50 ${runP50.toFixed(1)} ms [${met(runP50 < GOAL.runP50)}]; ${RATE} node executions/s asked, ${sustained.nodesPerSecond.toFixed(0)} done, per-node p99 last third ×${sustained.growth.toFixed(2)} the first [${met(sustainedOk)}] over ${SECONDS} s (the reliability suite asks 600: BENCH_SECONDS=600); dead tuples ${sustained.deadVerdict}; ceiling ${ceiling.nodesPerSecond.toFixed(0)} node executions/s [${met(ceiling.nodesPerSecond >= GOAL.nodesPerSecond)}]; per-node p50 ratio to the in-memory store ${ratio.toFixed(1)}`,
    );
  } finally {
    for (const database of opened.reverse()) await database.close();
    await adminQuery(ADMIN_URL, `drop database if exists ${name} with (force)`);
  }
  if (failed) process.exitCode = 1;
}

await main();

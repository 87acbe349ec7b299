/**
 * Engine overhead benchmark: runs one seeded random DAG of no-op nodes (a) through the engine
 * (in-memory checkpoint store with default options, an `event` listener attached), (b) through
 * p-graph and (c) through a bare topological Promise scheduler, under the same concurrency limit.
 * Warm-up rounds first, then measured rounds interleaved across the three; medians are reported.
 * Each timing covers the whole job from the graph description: the engine's `start` (validation
 * and compile included) up to its outcome, p-graph's construction plus `run`, the bare scheduler's
 * run over a precomputed adjacency.
 *
 * It asserts no timing; it exits non-zero when a run did not execute every node.
 *
 * Env: BENCH_NODES (10000), BENCH_ROUNDS (7), BENCH_WARMUP (2), BENCH_SEED (42),
 * BENCH_CONCURRENCY (64; `unbounded` for no limit).
 *
 * The last line printed is:
 * `engine per-node overhead: <µs> µs; ratio to p-graph: <x>; ratio to bare scheduler: <y>`.
 */
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { dagStats, randomDag } from './random-dag.ts';
import {
  createBenchEngine,
  runBare,
  runEngine,
  runPGraph,
  toPGraphInput,
  toWorkflowGraph,
} from './runners.ts';

function intEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be an integer >= ${min}; got "${raw}".`);
  }
  return value;
}

function concurrencyEnv(): number | undefined {
  const raw = process.env.BENCH_CONCURRENCY;
  if (raw === undefined || raw === '') return 64;
  if (raw === 'unbounded' || raw === 'Infinity') return undefined;
  return intEnv('BENCH_CONCURRENCY', 64, 1);
}

const nodeCount = intEnv('BENCH_NODES', 10_000, 1);
const rounds = intEnv('BENCH_ROUNDS', 7, 1);
const warmup = intEnv('BENCH_WARMUP', 2, 0);
const seed = intEnv('BENCH_SEED', 42, 0);
const concurrency = concurrencyEnv();
/** The engine takes a number; `Infinity` makes its queue unbounded. */
const engineConcurrency = concurrency ?? Number.POSITIVE_INFINITY;

const dag = randomDag({ nodeCount, seed });
const stats = dagStats(dag);
const graph = toWorkflowGraph(dag);
const pgraphInput = toPGraphInput(dag);

type RunnerName = 'engine' | 'p-graph' | 'bare scheduler';
const RUNNERS: readonly RunnerName[] = ['engine', 'p-graph', 'bare scheduler'];

const failures: string[] = [];
let engineEvents = 0;

/** Runs one runner once, validates that it executed every node, and returns its wall time in ms. */
async function measure(name: RunnerName): Promise<number> {
  if (name === 'engine') {
    const engine = createBenchEngine(engineConcurrency);
    const t0 = performance.now();
    const result = await runEngine(engine, graph);
    const ms = performance.now() - t0;
    const { outcome } = result;
    if (outcome.status !== 'completed') {
      const why =
        outcome.status === 'failed' ? `${outcome.error.code}: ${outcome.error.message}` : outcome.reason;
      failures.push(`engine: outcome ${outcome.status} (${why})`);
    }
    if (result.executed !== nodeCount)
      failures.push(`engine: executed ${result.executed}/${nodeCount} nodes`);
    if (result.nodeStarted !== nodeCount || result.nodeCompleted !== nodeCount) {
      failures.push(
        `engine: saw ${result.nodeStarted} node.started and ${result.nodeCompleted} node.completed events for ${nodeCount} nodes`,
      );
    }
    const outputs = Object.keys(outcome.outputs).length;
    if (outputs !== nodeCount) failures.push(`engine: outcome has ${outputs}/${nodeCount} outputs`);
    engineEvents = result.events;
    return ms;
  }
  const t0 = performance.now();
  const count =
    name === 'p-graph' ? await runPGraph(pgraphInput, concurrency) : await runBare(dag, concurrency);
  const ms = performance.now() - t0;
  if (count !== nodeCount) failures.push(`${name}: executed ${count}/${nodeCount} nodes`);
  return ms;
}

const gc = (globalThis as { gc?: () => void }).gc;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const perNodeUs = (ms: number): number => (ms * 1000) / nodeCount;

function checkFailures(phase: string): void {
  if (failures.length === 0) return;
  console.error(`FAIL (${phase}): a run did not execute every node:`);
  for (const failure of failures) console.error(`  ${failure}`);
  process.exit(1);
}

console.log(
  `engine-overhead bench: ${nodeCount} nodes, ${stats.edges} edges (avg in-degree ${stats.avgInDegree.toFixed(2)}, ` +
    `${stats.roots} roots, depth ${stats.depth}, max level width ${stats.maxWidth}), seed ${seed}`,
);
console.log(
  `concurrency: ${concurrency === undefined ? 'unbounded' : concurrency} (engine and p-graph and bare scheduler); ` +
    `warm-up rounds: ${warmup}; measured rounds: ${rounds} (interleaved); node ${process.version}; ` +
    `${availableParallelism()} CPUs, load average ${loadavg()[0]!.toFixed(2)}` +
    (gc === undefined ? '' : '; gc between runs'),
);

const times: Record<RunnerName, number[]> = { engine: [], 'p-graph': [], 'bare scheduler': [] };
for (let round = 0; round < warmup + rounds; round++) {
  // Rotate the order so no runner always goes first (or always runs right after the engine's garbage).
  for (let k = 0; k < RUNNERS.length; k++) {
    const name = RUNNERS[(round + k) % RUNNERS.length]!;
    gc?.();
    const ms = await measure(name);
    if (round >= warmup) times[name].push(ms);
  }
  checkFailures(round < warmup ? `warm-up round ${round + 1}` : `round ${round - warmup + 1}`);
}

// How much of the engine's time is validating and compiling the graph (no run, no store, no events).
const compileTimes: number[] = [];
{
  const engine = createBenchEngine(engineConcurrency);
  for (let i = 0; i < rounds; i++) {
    gc?.();
    const t0 = performance.now();
    engine.estimateCost(graph);
    compileTimes.push(performance.now() - t0);
  }
}

const rows = RUNNERS.map((name) => ({
  name,
  median: median(times[name]),
  min: Math.min(...times[name]),
}));
const pad = (text: string, width: number): string => text.padStart(width);
console.log('');
console.log(
  `${'runner'.padEnd(16)}${pad('median µs/node', 16)}${pad('min µs/node', 14)}${pad('median ms', 12)}`,
);
for (const row of rows) {
  console.log(
    `${row.name.padEnd(16)}${pad(perNodeUs(row.median).toFixed(2), 16)}${pad(perNodeUs(row.min).toFixed(2), 14)}` +
      `${pad(row.median.toFixed(1), 12)}`,
  );
}
console.log('');
console.log(`engine events per run (one 'event' listener): ${engineEvents}`);
console.log(
  `engine validate+compile only (estimateCost), median: ${perNodeUs(median(compileTimes)).toFixed(2)} µs/node ` +
    `(${median(compileTimes).toFixed(1)} ms), included in the engine's time above`,
);

const [engineRow, pgraphRow, bareRow] = rows as [
  (typeof rows)[number],
  (typeof rows)[number],
  (typeof rows)[number],
];
console.log(
  `engine per-node overhead: ${perNodeUs(engineRow.median).toFixed(2)} µs; ` +
    `ratio to p-graph: ${(engineRow.median / pgraphRow.median).toFixed(2)}; ` +
    `ratio to bare scheduler: ${(engineRow.median / bareRow.median).toFixed(2)}`,
);

import { ffmpegLoad } from '@vidgenie/nodes';
import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { failureOf } from '../analytics/run-analytics-listener.ts';
import type { RunFact } from '../analytics/tap-run-facts.ts';
import type { DatabasePool } from '../db/database-pool.ts';
import type { DB } from '../db/schema.ts';
import { withTimeout } from '../ops/with-timeout.ts';
import type { ProviderKeyVault } from '../vault/provider-key-vault.ts';
import { ageInDays } from '../vault/resolve-key-ring.ts';

/**
 * Node duration buckets, in seconds: sub-second local steps up to 15-minute video renders, dense
 * enough around the PRD's figures (an image ~10 s, an 8 s clip ~60 s) for P95/P99 estimates.
 */
export const NODE_DURATION_BUCKETS: readonly number[] = [
  0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 300, 450, 600, 900,
];

/** The server's Prometheus metrics; see {@link createMetrics}. */
export interface Metrics {
  /** This server's own registry (not prom-client's global one). */
  readonly registry: Registry;
  /** The `Content-Type` of {@link Metrics.scrape}'s text. */
  readonly contentType: string;
  /** Counts a batch of run facts (the run event tap's listener). Never throws. */
  observe(facts: readonly RunFact[]): void;
  /** Reads the gauges that live in the database (one query), then renders every metric as text. */
  scrape(): Promise<string>;
}

/** Options of {@link createMetrics}. */
export interface CreateMetricsOptions {
  readonly db: Kysely<DB>;
  /** The vault, for its active key's age. */
  readonly vault: Pick<ProviderKeyVault, 'ring' | 'keyStats'>;
  readonly now?: () => Date;
  readonly log?: Logger;
  /** Process metrics (CPU, memory, event loop, GC: prom-client's defaults). Default true. */
  readonly defaultMetrics?: boolean;
  /** How long the scrape's database query may take before the database counts as down (default 2 s). */
  readonly queryTimeoutMs?: number;
  /** PostgreSQL's connection pool: its counts and how long statements wait for a connection. */
  readonly pool?: DatabasePool;
}

/**
 * Connection wait buckets, in seconds: from no wait (a free connection, well under a millisecond)
 * to the seconds a saturated pool makes statements wait.
 */
export const POOL_WAIT_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

/**
 * Creates the server's Prometheus metrics on a registry of its own (several servers in one
 * process, as in tests, never share counters):
 *
 * | metric | type | labels |
 * | --- | --- | --- |
 * | `vidgenie_runs_started_total` | counter | |
 * | `vidgenie_runs_finished_total` | counter | `status` (completed, failed, cancelled) |
 * | `vidgenie_node_duration_seconds` | histogram | `node_type`, `provider`, `status` (completed, failed) |
 * | `vidgenie_provider_errors_total` | counter | `provider`, `code` (engine code), `failure` (provider failure or `none`) |
 * | `vidgenie_credits_captured_total` | counter | |
 * | `vidgenie_user_credits_consumed_total` | counter | `user_id` |
 * | `vidgenie_runs_queued`, `vidgenie_runs_active` | gauge | (read from `runs` at scrape time) |
 * | `vidgenie_vault_active_key_age_days` | gauge | |
 * | `vidgenie_database_up` | gauge | (1 when the scrape's query answered) |
 * | `vidgenie_db_pool_connections` | gauge | `state` (open, idle, waiting: callers waiting for one), with `pool` |
 * | `vidgenie_db_pool_max_connections` | gauge | (with `pool`) |
 * | `vidgenie_db_pool_wait_seconds` | histogram | (with `pool`: each statement's or transaction's wait for a connection) |
 * | `vidgenie_ffmpeg_processes` | gauge | `state` (running, waiting: calls waiting for a slot) |
 * | `vidgenie_ffmpeg_max_processes` | gauge | (`VIDGENIE_FFMPEG_CONCURRENCY`) |
 *
 * plus prom-client's process and Node.js metrics. Counters are fed by {@link Metrics.observe}
 * from the run event bus, so they count the runs this process hears.
 *
 * @example
 * ```ts
 * import { createMetrics, createServices, loadConfig } from '@vidgenie/server';
 * const services = await createServices(loadConfig({ VIDGENIE_DATA_DIR: './.vidgenie-example' }));
 * const metrics = createMetrics({ db: services.db, vault: services.vault, defaultMetrics: false });
 * console.log((await metrics.scrape()).includes('vidgenie_runs_queued')); // true
 * await services.close();
 * ```
 */
export function createMetrics(options: CreateMetricsOptions): Metrics {
  const { db, vault } = options;
  const now = options.now ?? (() => new Date());
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const runsStarted = new Counter({
    name: 'vidgenie_runs_started_total',
    help: 'Workflow runs started (resumes not counted).',
    registers,
  });
  const runsFinished = new Counter({
    name: 'vidgenie_runs_finished_total',
    help: 'Workflow runs ended, by final status.',
    labelNames: ['status'] as const,
    registers,
  });
  for (const status of ['completed', 'failed', 'cancelled']) runsFinished.inc({ status }, 0);
  const nodeDuration = new Histogram({
    name: 'vidgenie_node_duration_seconds',
    help: 'Node execution time (its last attempt), by node type, provider and outcome.',
    labelNames: ['node_type', 'provider', 'status'] as const,
    buckets: [...NODE_DURATION_BUCKETS],
    registers,
  });
  const providerErrors = new Counter({
    name: 'vidgenie_provider_errors_total',
    help: 'Failed attempts of nodes that call a provider (retried or final), by provider, engine error code and provider failure.',
    labelNames: ['provider', 'code', 'failure'] as const,
    registers,
  });
  const creditsCaptured = new Counter({
    name: 'vidgenie_credits_captured_total',
    help: 'Credits captured (charged) from run holds.',
    registers,
  });
  const userCredits = new Counter({
    name: 'vidgenie_user_credits_consumed_total',
    help: 'Credits captured, per user: watch for abnormal consumption.',
    labelNames: ['user_id'] as const,
    registers,
  });
  const queued = new Gauge({
    name: 'vidgenie_runs_queued',
    help: 'Runs accepted and waiting for a slot (status queued).',
    registers,
  });
  const active = new Gauge({
    name: 'vidgenie_runs_active',
    help: 'Runs executing (status running).',
    registers,
  });
  const keyAge = new Gauge({
    name: 'vidgenie_vault_active_key_age_days',
    help: "Age of the vault's active encryption key, in days (rotate at VIDGENIE_KEY_ROTATION_DAYS).",
    registers,
  });
  const databaseUp = new Gauge({
    name: 'vidgenie_database_up',
    help: "1 when the scrape's database query answered in time, else 0.",
    registers,
  });

  const ffmpegProcesses = new Gauge({
    name: 'vidgenie_ffmpeg_processes',
    help: 'ffmpeg processes of this process: running, and calls waiting for a slot (a waiting count that keeps growing means renders arrive faster than the cores make them).',
    labelNames: ['state'] as const,
    registers,
  });
  const ffmpegMax = new Gauge({
    name: 'vidgenie_ffmpeg_max_processes',
    help: 'The most ffmpeg processes this process runs at once (VIDGENIE_FFMPEG_CONCURRENCY, one per core by default).',
    registers,
  });
  const readFfmpegGauges = () => {
    const load = ffmpegLoad();
    ffmpegProcesses.set({ state: 'running' }, load.running);
    ffmpegProcesses.set({ state: 'waiting' }, load.waiting);
    ffmpegMax.set(load.concurrency);
  };

  const pool = options.pool;
  /** The pool's counts, set when a scrape begins (before its own query waits in the pool). */
  const poolGauges =
    pool === undefined
      ? undefined
      : {
          connections: new Gauge({
            name: 'vidgenie_db_pool_connections',
            help: 'PostgreSQL connections of this process: open, idle, and callers waiting for one.',
            labelNames: ['state'] as const,
            registers,
          }),
          max: new Gauge({
            name: 'vidgenie_db_pool_max_connections',
            help: 'The most PostgreSQL connections this process opens (VIDGENIE_DB_POOL_SIZE).',
            registers,
          }),
        };
  if (pool !== undefined) {
    const poolWait = new Histogram({
      name: 'vidgenie_db_pool_wait_seconds',
      help: 'How long a statement (or transaction) waited for a PostgreSQL connection: when it grows, the pool is the bottleneck (VIDGENIE_DB_POOL_SIZE).',
      buckets: [...POOL_WAIT_BUCKETS],
      registers,
    });
    pool.onAcquire((seconds) => poolWait.observe(seconds));
  }
  const readPoolGauges = () => {
    if (pool === undefined || poolGauges === undefined) return;
    const counts = pool.counts();
    poolGauges.connections.set({ state: 'open' }, counts.open);
    poolGauges.connections.set({ state: 'idle' }, counts.idle);
    poolGauges.connections.set({ state: 'waiting' }, counts.waiting);
    poolGauges.max.set(counts.max);
  };

  const observeOne = (fact: RunFact) => {
    const { event, node } = fact;
    switch (event.type) {
      case 'run.started':
        if (!event.resumed) runsStarted.inc();
        break;
      case 'run.completed':
        runsFinished.inc({ status: 'completed' });
        break;
      case 'run.failed':
        runsFinished.inc({ status: 'failed' });
        break;
      case 'run.cancelled':
        runsFinished.inc({ status: 'cancelled' });
        break;
      case 'node.completed':
      case 'node.failed':
        if (fact.durationMs !== undefined) {
          nodeDuration.observe(
            {
              node_type: event.nodeType,
              provider: node?.provider ?? 'none',
              status: event.type === 'node.completed' ? 'completed' : 'failed',
            },
            fact.durationMs / 1000,
          );
        }
        if (event.type === 'node.failed') countProviderError(fact, event.error);
        break;
      case 'node.retrying':
        countProviderError(fact, event.error);
        break;
      case 'cost.captured':
        creditsCaptured.inc(event.amount);
        userCredits.inc({ user_id: fact.run.userId }, event.amount);
        break;
      default:
        break;
    }
  };

  const countProviderError = (
    fact: RunFact,
    error: { code: string; details?: Readonly<Record<string, unknown>> },
  ) => {
    const named = error.details?.providerId;
    const provider = typeof named === 'string' ? named : fact.node?.provider;
    if (provider === undefined) return; // not a provider call (prompt, output)
    providerErrors.inc({
      provider,
      code: error.code,
      failure: failureOf(error as Parameters<typeof failureOf>[0]) ?? 'none',
    });
  };

  const readDatabaseGauges = async () => {
    try {
      const { rows } = await withTimeout(
        sql<{ queued: number | string; running: number | string }>`
          select count(*) filter (where status = 'queued') as queued,
                 count(*) filter (where status = 'running') as running
            from runs
           where status in ('queued', 'running')`.execute(db),
        options.queryTimeoutMs ?? 2000,
      );
      queued.set(Number(rows[0]?.queued ?? 0));
      active.set(Number(rows[0]?.running ?? 0));
      databaseUp.set(1);
    } catch (error) {
      databaseUp.set(0);
      options.log?.warn({ err: error }, 'metrics: the database did not answer the scrape query');
    }
  };

  const readKeyAge = async () => {
    const known = ageInDays(vault.ring.active, now());
    if (known !== undefined) return keyAge.set(known);
    try {
      // An undated configured key: its age counts from its first use here (an audit row).
      keyAge.set((await vault.keyStats()).activeKeyAgeDays);
    } catch (error) {
      options.log?.warn({ err: error }, "metrics: could not read the vault key's age");
    }
  };

  return Object.freeze({
    registry,
    contentType: registry.contentType,
    observe(facts: readonly RunFact[]) {
      for (const fact of facts) {
        if (!fact.run.local) continue; // the machine executing the run counts it
        try {
          observeOne(fact);
        } catch (error) {
          options.log?.warn({ err: error, runId: fact.run.runId }, 'metrics: an event could not be counted');
        }
      }
    },
    async scrape() {
      readPoolGauges();
      readFfmpegGauges();
      await readDatabaseGauges();
      await readKeyAge();
      return registry.metrics();
    },
  });
}

import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.ts';

/** P95 and P99 of a duration, in seconds; null without data. */
export interface DurationPercentiles {
  readonly p95: number | null;
  readonly p99: number | null;
}

/** The admin dashboard's figures (PRD section 13) over a window; see {@link readAdminStats}. */
export interface AdminStats {
  readonly windowDays: number;
  readonly since: Date;
  /** Now, from the `runs` table: waiting for a slot, and executing. */
  readonly activeRuns: { readonly queued: number; readonly running: number };
  readonly runs: {
    readonly completed: number;
    readonly failed: number;
    readonly cancelled: number;
    /** completed / (completed + failed); cancelled runs are the creator's choice. Null without any. */
    readonly successRate: number | null;
    /** Credits captured per completed run, on average; null without any. */
    readonly averageCreditsPerCompletedRun: number | null;
    /** Durations of completed runs. */
    readonly durationSeconds: DurationPercentiles;
  };
  /** Per node type: completions, failures, success rate and durations of completed nodes. */
  readonly nodes: readonly {
    readonly nodeType: string;
    readonly completed: number;
    readonly failed: number;
    readonly successRate: number | null;
    readonly durationSeconds: DurationPercentiles;
  }[];
  /** Failed provider attempts (retried or final) by provider, engine code and provider failure, most first. */
  readonly providerErrors: readonly {
    readonly provider: string;
    readonly code: string;
    readonly failure: string;
    readonly count: number;
  }[];
}

const DAY_MS = 86_400_000;
const num = (value: unknown): number => Number(value ?? 0);
const orNull = (value: unknown): number | null =>
  value === null || value === undefined ? null : Number(value);
const seconds = (ms: unknown): number | null => {
  const value = orNull(ms);
  return value === null ? null : Math.round(value) / 1000;
};
const rate = (completed: number, failed: number): number | null =>
  completed + failed === 0 ? null : completed / (completed + failed);

/**
 * The admin figures of the last `days` days (default 7), from `analytics_events` (indexed by
 * name and time) plus the live `runs` counts: success rates per run and node type, average
 * credits per completed run, P95/P99 durations (`percentile_cont`), provider errors. Four queries,
 * each on PostgreSQL and PGlite alike.
 *
 * @example
 * ```ts
 * import { migrateToLatest, openDatabase, readAdminStats } from '@vidgenie/server';
 * const { db, close } = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
 * await migrateToLatest(db);
 * const stats = await readAdminStats(db, { days: 7, now: new Date() });
 * console.log(stats.runs.successRate); // null: no runs yet
 * await close();
 * ```
 */
export async function readAdminStats(
  db: Kysely<DB>,
  options: { readonly days?: number; readonly now: Date },
): Promise<AdminStats> {
  const days = options.days ?? 7;
  const since = new Date(options.now.getTime() - days * DAY_MS);
  const duration = sql`(properties->>'durationMs')::double precision`;

  const active = await sql<{ queued: unknown; running: unknown }>`
    select count(*) filter (where status = 'queued') as queued,
           count(*) filter (where status = 'running') as running
      from runs
     where status in ('queued', 'running')`.execute(db);

  const runs = await sql<{
    completed: unknown;
    failed: unknown;
    cancelled: unknown;
    avg_credits: unknown;
    p95: unknown;
    p99: unknown;
  }>`
    select count(*) filter (where name = 'workflow.completed') as completed,
           count(*) filter (where name = 'workflow.failed') as failed,
           count(*) filter (where name = 'workflow.cancelled') as cancelled,
           avg((properties->>'actualCost')::double precision) filter (where name = 'workflow.completed') as avg_credits,
           percentile_cont(0.95) within group (order by ${duration}) filter (where name = 'workflow.completed') as p95,
           percentile_cont(0.99) within group (order by ${duration}) filter (where name = 'workflow.completed') as p99
      from analytics_events
     where name in ('workflow.completed', 'workflow.failed', 'workflow.cancelled')
       and created_at >= ${since}`.execute(db);

  const nodes = await sql<{
    node_type: string;
    completed: unknown;
    failed: unknown;
    p95: unknown;
    p99: unknown;
  }>`
    select properties->>'nodeType' as node_type,
           count(*) filter (where name = 'node.completed') as completed,
           count(*) filter (where name = 'node.failed') as failed,
           percentile_cont(0.95) within group (order by ${duration}) filter (where name = 'node.completed') as p95,
           percentile_cont(0.99) within group (order by ${duration}) filter (where name = 'node.completed') as p99
      from analytics_events
     where name in ('node.completed', 'node.failed')
       and created_at >= ${since}
       and properties->>'nodeType' is not null
     group by 1
     order by 1`.execute(db);

  const errors = await sql<{ provider: string; code: string; failure: string; count: unknown }>`
    select properties->>'provider' as provider,
           coalesce(properties->>'errorCode', 'UNKNOWN') as code,
           coalesce(properties->>'failure', 'none') as failure,
           count(*) as count
      from analytics_events
     where name in ('node.failed', 'node.retried')
       and created_at >= ${since}
       and properties->>'provider' is not null
     group by 1, 2, 3
     order by count(*) desc, 1, 2, 3`.execute(db);

  const totals = runs.rows[0];
  const completed = num(totals?.completed);
  const failed = num(totals?.failed);
  return {
    windowDays: days,
    since,
    activeRuns: { queued: num(active.rows[0]?.queued), running: num(active.rows[0]?.running) },
    runs: {
      completed,
      failed,
      cancelled: num(totals?.cancelled),
      successRate: rate(completed, failed),
      averageCreditsPerCompletedRun: orNull(totals?.avg_credits),
      durationSeconds: { p95: seconds(totals?.p95), p99: seconds(totals?.p99) },
    },
    nodes: nodes.rows.map((row) => ({
      nodeType: row.node_type,
      completed: num(row.completed),
      failed: num(row.failed),
      successRate: rate(num(row.completed), num(row.failed)),
      durationSeconds: { p95: seconds(row.p95), p99: seconds(row.p99) },
    })),
    providerErrors: errors.rows.map((row) => ({
      provider: row.provider,
      code: row.code,
      failure: row.failure,
      count: num(row.count),
    })),
  };
}

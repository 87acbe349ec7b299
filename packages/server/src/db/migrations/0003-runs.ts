import { type Kysely, sql } from 'kysely';

/**
 * Durable runs as the API sees them: `runs`, one row per workflow run (its owner, status, graph,
 * estimate, hold and timings; the id is the engine's run id, shared with `run_checkpoints` and
 * `credit_holds.run_id`), and `run_events`, every engine event of a run under its gap-free `seq`
 * (the SSE stream replays them after `Last-Event-ID`). Graphs and events are `json`, not `jsonb`:
 * kept verbatim and never parsed by the database (an output may hold a `\u0000`).
 */
const statements = [
  `create table runs (
    id text primary key check (length(id) between 1 and 255),
    user_id text not null references users(id) on delete cascade,
    status text not null default 'queued'
      check (status in ('queued', 'running', 'completed', 'failed', 'cancelled')),
    graph json not null,
    estimated_cost integer not null check (estimated_cost >= 0),
    hold_id text,
    error json,
    created_at timestamptz not null default now(),
    started_at timestamptz,
    finished_at timestamptz,
    constraint runs_graph check (json_typeof(graph) = 'object'),
    constraint runs_finished check ((finished_at is null) = (status in ('queued', 'running')))
  )`,
  `create index runs_user_created on runs(user_id, created_at desc, id desc)`,
  `create index runs_unfinished on runs(created_at) where status in ('queued', 'running')`,
  `create table run_events (
    run_id text not null references runs(id) on delete cascade,
    seq integer not null check (seq >= 1),
    type text not null check (length(type) between 1 and 64),
    payload json not null,
    created_at timestamptz not null default now(),
    primary key (run_id, seq)
  )`,
];

/** Creates `runs` and `run_events`. */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

/** Drops everything {@link up} created. */
export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['run_events', 'runs']) {
    await sql.raw(`drop table if exists ${table} cascade`).execute(db);
  }
}

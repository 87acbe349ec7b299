import { type Kysely, sql } from 'kysely';

/**
 * The engine's checkpoints: one row per run and one per node that wrote something durable.
 * Records are the engine's JSON, kept as `json`: verbatim text, key order included, never parsed by
 * the database (a JSON function would refuse a `\u0000` in an output). The columns the server
 * queries (status, fence, sequence numbers, timestamps) are extracted next to them by the store.
 * Run patches are `jsonb`, merged in place by `||`.
 */
const statements = [
  `create table run_checkpoints (
    run_id text primary key check (length(run_id) between 1 and 255),
    fence integer not null default 1 check (fence >= 1),
    format_version integer not null check (format_version >= 1),
    status text not null check (status in ('running', 'completed', 'failed', 'cancelled')),
    last_seq bigint not null default 0 check (last_seq >= 0),
    record json not null,
    patch jsonb not null default '{}'::jsonb,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint run_checkpoints_record check (json_typeof(record) = 'object'),
    constraint run_checkpoints_patch check (
      jsonb_typeof(patch) = 'object'
      and not (patch ? 'runId' or patch ? 'version' or patch ? 'graph' or patch ? 'createdAt' or patch ? 'lastSeq')
    ),
    constraint run_checkpoints_status check (patch->>'status' is null or patch->>'status' = status)
  )`,
  `create index run_checkpoints_running on run_checkpoints(created_at) where status = 'running'`,
  `create table node_checkpoints (
    run_id text not null references run_checkpoints(run_id) on delete cascade,
    node_id text not null check (length(node_id) between 1 and 255),
    status text not null check (status in ('running', 'completed', 'failed')),
    record json not null,
    seq bigint not null default 0 check (seq >= 0),
    updated_at timestamptz not null default now(),
    primary key (run_id, node_id),
    constraint node_checkpoints_record check (json_typeof(record) = 'object')
  )`,
];

/** Creates the checkpoint tables. */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

/** Drops everything {@link up} created. */
export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['node_checkpoints', 'run_checkpoints']) {
    await sql.raw(`drop table if exists ${table} cascade`).execute(db);
  }
}

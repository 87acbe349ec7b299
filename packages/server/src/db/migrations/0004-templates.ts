import { type Kysely, sql } from 'kysely';

/**
 * Saved workflow templates (PRD: "Sauvegarde templates pour réutilisation"): a user's named graphs,
 * one name per user. The graph is `json`, kept verbatim as the editor saved it (positions, key order).
 */
const statements = [
  `create table templates (
    id text primary key check (length(id) between 1 and 255),
    user_id text not null references users(id) on delete cascade,
    name text not null check (length(name) between 1 and 100),
    graph json not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint templates_graph check (json_typeof(graph) = 'object'),
    constraint templates_user_name unique (user_id, name)
  )`,
];

/** Creates `templates`. */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

/** Drops `templates`. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw('drop table if exists templates cascade').execute(db);
}

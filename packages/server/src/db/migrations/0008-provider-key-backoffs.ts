import { type Kysely, sql } from 'kysely';

/**
 * `provider_key_backoffs`: the shared back-off of provider keys after a 429, so that workers on
 * several machines wait together. `key_hash` is the SHA-256 (hex) of the provider id and the key,
 * never the key: the CHECK refuses anything else. `until` is set from the database clock.
 */
const statements = [
  `create table provider_key_backoffs (
     key_hash text primary key check (key_hash ~ '^[0-9a-f]{64}$'),
     until timestamptz not null,
     strikes integer not null default 0 check (strikes >= 0)
   )`,
];

/** Creates the table. */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

/** Drops it. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw(`drop table if exists provider_key_backoffs`).execute(db);
}

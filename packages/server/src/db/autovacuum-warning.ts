import { type Kysely, sql } from 'kysely';
import type { DB } from './schema.ts';

/**
 * What to tell the operator when PostgreSQL's autovacuum is off, or undefined when it is on.
 * Every node rewrites its run's checkpoint row and adds checkpoint and event rows: without
 * vacuuming, dead rows pile up and every write slows (at 500 node executions/s, per-node p99 went
 * from 5 to 77 ms in 10 minutes in the durable engine bench).
 * @internal
 */
export async function autovacuumWarning(db: Kysely<DB>): Promise<string | undefined> {
  const { rows } = await sql<{ setting: string }>`select current_setting('autovacuum') as setting`.execute(
    db,
  );
  if (rows[0]?.setting === 'on') return undefined;
  return (
    "PostgreSQL's autovacuum is off on this server: run tables will bloat and every run's writes slow down " +
    'within minutes under load. Turn it on (autovacuum = on in postgresql.conf, then reload), or vacuum ' +
    'runs, run_checkpoints, node_checkpoints and run_events on a schedule; see docs/operations.md.'
  );
}

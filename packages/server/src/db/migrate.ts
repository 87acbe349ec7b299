import { type Kysely, type MigrationResult, Migrator } from 'kysely';
import { migrations } from './migrations/index.ts';
import type { DB } from './schema.ts';

/** What {@link migrateToLatest} did. */
export interface MigrateReport {
  /** Migrations applied by this call, in order (empty when the schema was already current). */
  readonly applied: readonly string[];
}

/**
 * Brings the schema to the latest migration. Safe to call from several processes at once: the
 * migrator takes a database lock. Throws `MigrationError` naming the migration that failed.
 *
 * @example
 * ```ts
 * import { migrateToLatest, openDatabase } from '@vidgenie/server';
 * const database = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
 * const { applied } = await migrateToLatest(database.db);
 * console.log(applied);
 * await database.close();
 * ```
 */
export async function migrateToLatest(db: Kysely<DB>): Promise<MigrateReport> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((result: MigrationResult) => result.status === 'Error');
    throw new MigrationError(failed?.migrationName ?? 'unknown', error);
  }
  return { applied: (results ?? []).map((result) => result.migrationName) };
}

/** A migration failed; the database was left at the last migration that succeeded. */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  /** The migration that failed. */
  readonly migration: string;
  constructor(migration: string, cause: unknown) {
    super(
      `Database migration "${migration}" failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      {
        cause,
      },
    );
    this.migration = migration;
  }
}

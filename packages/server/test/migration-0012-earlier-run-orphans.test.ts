import { Migrator, sql } from 'kysely';
import { expect, it } from 'vitest';
import { migrateToLatest } from '../src/db/migrate.ts';
import { migrations } from '../src/db/migrations/index.ts';
import { openDatabase } from '../src/db/open-database.ts';

it('queues the media of failed and cancelled runs that ended before 0011, and nothing else', async () => {
  const database = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
  try {
    const { db } = database;
    const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
    const to0011 = await migrator.migrateTo('0011-media-orphans');
    expect(to0011.error).toBeUndefined();

    await sql`insert into users (id, email, password_hash) values ('usr_a', 'a@example.com', 'x')`.execute(
      db,
    );
    const ended = new Date('2026-01-10T12:00:00Z');
    const run = async (id: string, status: string, outputs: Record<string, unknown>) => {
      await sql`insert into runs (id, user_id, status, graph, estimated_cost, created_at, finished_at)
        values (${id}, 'usr_a', ${status}, '{}'::json, 0, ${ended}, ${ended})`.execute(db);
      await sql`insert into run_checkpoints (run_id, format_version, status, record)
        values (${id}, 1, ${status === 'completed' ? 'completed' : 'failed'}, '{}'::json)`.execute(db);
      for (const [nodeId, output] of Object.entries(outputs)) {
        await sql`insert into node_checkpoints (run_id, node_id, status, record)
          values (${id}, ${nodeId}, 'completed', ${JSON.stringify({ nodeId, output })}::json)`.execute(db);
      }
    };
    await run('run_failed', 'failed', {
      image: { image: { key: 'users/usr_a/runs/run_failed/image.png', mimeType: 'image/png' } },
      // Text with a NUL: read as text and parsed in JS, it does not fail the migration.
      enhance: { text: 'a\u0000b' },
      stolen: { image: { key: 'users/usr_b/runs/x/image.png' } },
      escape: { image: { key: 'users/usr_a/runs/../../etc/passwd' } },
    });
    await run('run_cancelled', 'cancelled', { image: { image: { key: 'runs/run_cancelled/image.png' } } });
    await run('run_done', 'completed', { video: { video: { key: 'users/usr_a/runs/run_done/video.mp4' } } });

    expect((await migrateToLatest(db)).applied[0]).toBe('0012-earlier-run-orphans');
    const { rows } = await sql<{ key: string; run_id: string; eligible_at: Date }>`
      select key, run_id, eligible_at from media_orphans order by key`.execute(db);
    expect(rows).toEqual([
      {
        key: 'runs/run_cancelled/image.png',
        run_id: 'run_cancelled',
        eligible_at: new Date('2026-01-11T12:00:00Z'),
      },
      {
        key: 'users/usr_a/runs/run_failed/image.png',
        run_id: 'run_failed',
        eligible_at: new Date('2026-01-11T12:00:00Z'),
      },
    ]);
  } finally {
    await database.close();
  }
});

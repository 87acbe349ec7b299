import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { loadConfig } from '../src/config/server-config.ts';
import { createServices } from '../src/services/create-services.ts';
import { captureLog } from './support/capture-log.ts';
import { describePostgres } from './support/test-databases.ts';

/**
 * A server on a PostgreSQL whose autovacuum is off says so when it starts, in plain words: its run
 * tables would bloat and every run's writes slow down. The machine's own setting decides which
 * branch runs (CI's test server has it off; a production-like one has it on).
 */
describePostgres('the autovacuum check at start', ({ database }) => {
  it("warns at start when PostgreSQL's autovacuum is off, and only then", async () => {
    const { rows } = await sql<{ setting: string }>`select current_setting('autovacuum') as setting`.execute(
      database().db,
    );
    const { log, lines } = captureLog('info');
    const config = loadConfig({
      DATABASE_URL: database().url,
      VIDGENIE_DATA_DIR: mkdtempSync(join(tmpdir(), 'vidgenie-autovacuum-')),
      NODE_ENV: 'test',
    });
    const services = await createServices(config, { database: database(), log, work: false });
    await services.close({ graceMs: 1_000 });
    const warnings = lines
      .map((line) => JSON.parse(line) as { level: number; msg: string })
      .filter((line) => line.level === 40 && line.msg.includes('autovacuum'));
    if (rows[0]?.setting === 'on') expect(warnings).toEqual([]);
    else {
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.msg).toMatch(/autovacuum is off.*autovacuum = on in postgresql\.conf/);
    }
  });
});

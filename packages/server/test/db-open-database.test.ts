import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/open-database.ts';

describe('openDatabase (PGlite)', () => {
  const root = mkdtempSync(join(tmpdir(), 'vidgenie-open-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('makes the data folder and its missing parents on a first start (a fresh checkout has no ./.vidgenie)', async () => {
    const dataDir = join(root, 'fresh', '.vidgenie', 'pglite');
    expect(existsSync(join(root, 'fresh'))).toBe(false);
    const database = await openDatabase({ kind: 'pglite', dataDir });
    try {
      const { rows } = await sql<{ answer: number }>`select 42 as answer`.execute(database.db);
      expect(rows).toEqual([{ answer: 42 }]);
    } finally {
      await database.close();
    }
    expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);
  });
});

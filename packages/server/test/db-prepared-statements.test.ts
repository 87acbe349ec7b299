import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { prepared, preparedStatementName } from '../src/db/prepared-statements.ts';
import { describeEachDatabase } from './support/test-databases.ts';

describe('prepared statement names', () => {
  it('names a marked text by its label and a hash of the text; leaves others alone', () => {
    const text = (condition: string) => `/* prepare:ledger.reserve */ select $1::int ${condition}`;
    const name = preparedStatementName(text(''));
    expect(name).toMatch(/^ledger\.reserve:[0-9a-f]{16}$/);
    expect(preparedStatementName(text(''))).toBe(name);
    // The same label with another text (an optional condition) gets a name of its own.
    expect(preparedStatementName(text('where true'))).not.toBe(name);
    expect(preparedStatementName('select $1::int')).toBeUndefined();
    expect(preparedStatementName('select 1 /* prepare:x */')).toBeUndefined();
  });

  it('refuses a label that could break out of the comment', () => {
    expect(() => prepared('x */ drop table users; /*')).toThrow(/Invalid prepared statement label/);
  });
});

describeEachDatabase('prepared statements', ({ lane, db }) => {
  it('runs a marked statement by name on PostgreSQL, once parsed per connection; a comment on PGlite', async () => {
    const names = await db()
      .transaction()
      .execute(async (trx) => {
        for (let i = 1; i <= 3; i++) {
          const { rows } = await sql<{
            n: number;
          }>`${prepared('test.add')} select ${i}::integer + 1 as n`.execute(trx);
          expect(rows).toEqual([{ n: i + 1 }]);
        }
        await sql`select ${1}::integer as unmarked`.execute(trx);
        const { rows } = await sql<{ name: string }>`select name from pg_prepared_statements`.execute(trx);
        return rows.map((row) => row.name);
      });
    if (lane === 'postgres') {
      expect(names).toHaveLength(1);
      expect(names[0]).toMatch(/^test\.add:[0-9a-f]{16}$/);
    } else {
      expect(names).toEqual([]);
    }
  });

  it('leaves a marked statement without parameters unnamed (the simple protocol has no names)', async () => {
    const names = await db()
      .transaction()
      .execute(async (trx) => {
        const { rows } = await sql<{ two: number }>`${prepared('test.plain')} select 2 as two`.execute(trx);
        expect(rows).toEqual([{ two: 2 }]);
        const listed = await sql<{ name: string }>`select name from pg_prepared_statements`.execute(trx);
        return listed.rows.map((row) => row.name);
      });
    expect(names.filter((name) => name.startsWith('test.plain'))).toEqual([]);
  });
});

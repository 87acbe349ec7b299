import type { Kysely } from 'kysely';
import type { DB } from '../../src/db/schema.ts';

/** A handle on `db` that counts the statements sent through it (`count()`), and a way to reset it. */
export function countStatements(db: Kysely<DB>): {
  readonly db: Kysely<DB>;
  readonly count: () => number;
  readonly reset: () => void;
} {
  let statements = 0;
  const counted = db.withPlugin({
    transformQuery: (args) => {
      statements++;
      return args.node;
    },
    transformResult: async (args) => args.result,
  });
  return {
    db: counted,
    count: () => statements,
    reset: () => {
      statements = 0;
    },
  };
}

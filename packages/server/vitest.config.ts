import { configDefaults, defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@vidgenie/source'] },
  ssr: { resolve: { conditions: ['@vidgenie/source'] } },
  test: {
    name: 'server',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // `*.pg.test.ts` need PostgreSQL itself (pg-boss, LISTEN/NOTIFY, worker processes): they run
    // when TEST_DATABASE_URL is set, as the Postgres lane of every other suite does (CI sets it,
    // and an unreachable server fails the run).
    exclude: [...configDefaults.exclude, ...(process.env.TEST_DATABASE_URL ? [] : ['test/**/*.pg.test.ts'])],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

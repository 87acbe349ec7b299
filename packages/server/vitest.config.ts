import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configDefaults, defineProject } from 'vitest/config';

/**
 * Files that replace modules (`vi.mock`) are named `*.isolated.test.ts` and run in the
 * `server-isolated` project (`vitest.isolated.config.ts`), each with fresh modules. Every other
 * file of this project shares its worker's module cache with the files run before it
 * (`isolate: false`): the server's files import most of the server, and importing it again for
 * each of them made this project take 5 min 33 s on PGlite, against 3 min 58 s shared. Their
 * tests build their own services, databases and servers, and nothing here stubs globals or spies
 * on modules; a `vi.mock` in a shared file would leak into the files after it (or not apply at
 * all), so loading this config fails on one.
 */
const testFiles = ['src', 'test'].flatMap((folder) =>
  readdirSync(join(import.meta.dirname, folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.ts') && !file.endsWith('.isolated.test.ts'))
    .map((file) => join(folder, file)),
);
const mocking = testFiles.filter((file) =>
  /\bvi\.(do)?[mM]ock\(/.test(readFileSync(join(import.meta.dirname, file), 'utf8')),
);
if (mocking.length > 0) {
  throw new Error(
    `These server tests replace modules with vi.mock: rename them *.isolated.test.ts so they run isolated: ${mocking.join(', ')}`,
  );
}

/** What both server projects share: the packages' sources, and room for real databases and processes. */
export const serverProjectBase = {
  resolve: { conditions: ['@vidgenie/source'] },
  ssr: { resolve: { conditions: ['@vidgenie/source'] } },
  timeouts: { testTimeout: 60_000, hookTimeout: 60_000 },
} as const;

export default defineProject({
  resolve: serverProjectBase.resolve,
  ssr: serverProjectBase.ssr,
  test: {
    ...serverProjectBase.timeouts,
    name: 'server',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // `*.pg.test.ts` need PostgreSQL itself (pg-boss, LISTEN/NOTIFY, worker processes): they run
    // when TEST_DATABASE_URL is set, as the Postgres lane of every other suite does (CI sets it,
    // and an unreachable server fails the run).
    exclude: [
      ...configDefaults.exclude,
      '**/*.isolated.test.ts',
      ...(process.env.TEST_DATABASE_URL ? [] : ['test/**/*.pg.test.ts']),
    ],
    isolate: false,
  },
});

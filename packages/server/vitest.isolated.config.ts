import { defineProject } from 'vitest/config';
import { serverProjectBase } from './vitest.config.ts';

/**
 * The server's test files that replace modules (`vi.mock`), named `*.isolated.test.ts`: each runs
 * with fresh modules, so its mocks neither leak into other files nor miss modules another file
 * loaded first. The rest of the server's files share modules (`vitest.config.ts`).
 */
export default defineProject({
  resolve: serverProjectBase.resolve,
  ssr: serverProjectBase.ssr,
  test: {
    ...serverProjectBase.timeouts,
    name: 'server-isolated',
    include: ['test/**/*.isolated.test.ts', 'src/**/*.isolated.test.ts'],
  },
});

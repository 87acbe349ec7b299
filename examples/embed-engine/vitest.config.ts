import { defineProject } from 'vitest/config';

/**
 * Tests run against the engine's TypeScript sources (the package's `@vidgenie/source` export
 * condition), so engine changes are picked up without a build; `pnpm start` runs on `dist/`.
 *
 * Vite keeps export conditions per environment: `resolve.conditions` covers the client
 * environment (browser mode), while Vitest's Node tests run in the SSR environment, which reads
 * `ssr.resolve.conditions`. Vite merges both lists with its defaults (node, import, default...).
 */
const conditions = ['@vidgenie/source'];

export default defineProject({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    name: 'example-embed-engine',
    include: ['src/**/*.test.ts'],
  },
});

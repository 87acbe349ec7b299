import { defineProject } from 'vitest/config';

/** Tests run against the packages' TypeScript sources (the `@vidgenie/source` export condition). */
const conditions = ['@vidgenie/source'];

export default defineProject({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: { name: 'example-custom-provider', include: ['src/**/*.test.ts'], testTimeout: 120_000 },
});

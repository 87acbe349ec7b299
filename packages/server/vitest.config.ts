import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@vidgenie/source'] },
  ssr: { resolve: { conditions: ['@vidgenie/source'] } },
  test: {
    name: 'server',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

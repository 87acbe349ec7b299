/**
 * The single list of test projects. The root `vitest.config.ts` imports it
 * (Vitest 4 dropped workspace files; `test.projects` replaces them).
 */
export default [
  'packages/engine',
  'packages/nodes',
  'packages/server',
  'packages/server/vitest.isolated.config.ts',
  'packages/ui',
  'examples/embed-engine',
  'examples/short-video',
  'examples/custom-provider',
];

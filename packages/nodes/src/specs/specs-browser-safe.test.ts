import { builtinModules, createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

/** The part of Vite's API this test uses (Vite is Vitest's own bundler: no extra dependency). */
interface ViteApi {
  readonly defaultClientConditions: readonly string[];
  build(config: Record<string, unknown>): Promise<unknown>;
}

interface Chunk {
  readonly type: string;
  readonly code?: string;
  readonly moduleIds?: readonly string[];
}

const packageDir = fileURLToPath(new URL('../..', import.meta.url));
const fromVitest = createRequire(createRequire(import.meta.url).resolve('vitest/package.json'));
const NODE_BUILTINS = new Set(builtinModules);
/** Packages the server-side nodes use that must never reach a browser bundle. */
const SERVER_ONLY = ['openai', '@google/genai', '@aws-sdk/', '@runwayml/sdk', '@ffmpeg-installer/', 'pngjs'];

describe('@vidgenie/nodes/specs', () => {
  it('bundles for the browser without Node built-ins, ffmpeg or provider SDKs', async () => {
    const vite = (await import(pathToFileURL(fromVitest.resolve('vite')).href)) as ViteApi;
    const imports: string[] = [];
    /** Bare imports named like Node built-ins (`events`), with what they resolved to. */
    const builtinNamed = new Map<string, string | undefined>();
    const result = await vite.build({
      configFile: false,
      root: packageDir,
      logLevel: 'silent',
      resolve: { conditions: ['@vidgenie/source', ...vite.defaultClientConditions] },
      plugins: [
        {
          name: 'record-imports',
          enforce: 'pre',
          async resolveId(
            this: {
              resolve(source: string, importer?: string, options?: object): Promise<{ id: string } | null>;
            },
            source: string,
            importer: string | undefined,
          ) {
            imports.push(source);
            if (NODE_BUILTINS.has(source.split('/')[0] ?? source) && !builtinNamed.has(source)) {
              builtinNamed.set(source, undefined);
              const resolved = await this.resolve(source, importer, { skipSelf: true });
              builtinNamed.set(source, resolved?.id);
            }
            return null;
          },
        },
      ],
      build: {
        write: false,
        minify: false,
        lib: { entry: 'src/specs/index.ts', formats: ['es'], fileName: 'specs' },
      },
    });
    const chunks = (Array.isArray(result) ? result : [result]).flatMap(
      (output: { output?: readonly Chunk[] }) => output.output ?? [],
    );
    const modules = chunks.flatMap((chunk) => chunk.moduleIds ?? []);
    expect(imports.filter((source) => source.startsWith('node:'))).toEqual([]);
    // A bare `events` is fine when it resolves to the npm package (a browser implementation).
    for (const [source, id] of builtinNamed)
      expect(id ?? `${source}: unresolved`, source).toMatch(/[/\\]node_modules[/\\]/);
    expect(modules.filter((id) => id.includes('browser-external') || id.startsWith('node:'))).toEqual([]);
    expect(imports.filter((source) => SERVER_ONLY.some((name) => source.startsWith(name)))).toEqual([]);
    expect(modules.filter((id) => /[/\\]media[/\\](ffmpeg|video-chain)/.test(id))).toEqual([]);
    // The bundle holds the nodes' schemas and the validation-only registry (checks the test bundles).
    expect(modules.some((id) => id.endsWith('create-validation-registry.ts'))).toBe(true);
    expect(chunks.map((chunk) => chunk.code ?? '').join('\n')).toContain('runs happen on the server');
  });
});

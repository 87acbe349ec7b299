/**
 * Builds the server's OpenAPI document offline, for the generators that derive files from it
 * (`generate-http-reference.ts`, `generate-api-types.ts`).
 *
 * The document is built without a network: {@link loadServerFacts} creates the server's services on
 * a temporary PGlite directory (no worker, no background jobs), asks the app for
 * `/api/openapi.json` with `app.request()`, and deletes the directory. Workspace packages must be
 * loaded from their TypeScript sources (the `@vidgenie/source` export condition):
 * {@link runWithSourceCondition} runs the calling script again with it when it is missing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root directory. */
export const root = join(import.meta.dirname, '..');

const SOURCE_CONDITION = '@vidgenie/source';

/** A JSON Schema, as far as the generators read one (OpenAPI 3.1 uses JSON Schema 2020-12). */
export interface JsonSchema {
  readonly $ref?: string;
  readonly type?: string | readonly string[];
  readonly format?: string;
  readonly description?: string;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly items?: JsonSchema;
  readonly additionalProperties?: boolean | JsonSchema;
  readonly anyOf?: readonly JsonSchema[];
  readonly oneOf?: readonly JsonSchema[];
  readonly allOf?: readonly JsonSchema[];
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly pattern?: string;
  readonly default?: unknown;
}

/** A media type of a request or response body. */
export interface MediaType {
  readonly schema?: JsonSchema;
}

/** A path, query or header parameter of an operation. */
export interface Parameter {
  readonly name: string;
  readonly in: string;
  readonly required?: boolean;
  readonly description?: string;
  readonly schema?: JsonSchema;
}

/** One operation (method of a path) of the document. */
export interface Operation {
  readonly tags?: readonly string[];
  readonly summary?: string;
  readonly description?: string;
  readonly security?: readonly Readonly<Record<string, readonly string[]>>[];
  readonly parameters?: readonly Parameter[];
  readonly requestBody?: {
    readonly required?: boolean;
    readonly content?: Readonly<Record<string, MediaType>>;
  };
  readonly responses?: Readonly<
    Record<string, { readonly description?: string; readonly content?: Readonly<Record<string, MediaType>> }>
  >;
}

/** The OpenAPI 3.1 document the server serves at `/api/openapi.json`, as far as the generators read it. */
export interface OpenApiDocument {
  readonly openapi: string;
  readonly info: { readonly title: string; readonly version: string; readonly description?: string };
  readonly paths: Readonly<Record<string, Readonly<Record<string, Operation>>>>;
  readonly components?: { readonly schemas?: Readonly<Record<string, JsonSchema>> };
}

/** What the generators need from the server besides the document. */
export interface ServerFacts {
  readonly document: OpenApiDocument;
  /** `METHOD /path` of the routes anyone may call. */
  readonly publicRoutes: ReadonlySet<string>;
  /** Every API error code and its HTTP status. */
  readonly errorStatus: Readonly<Record<string, number>>;
}

/** Builds the OpenAPI document with the server's own code, on a throw-away PGlite directory. */
export async function loadServerFacts(): Promise<ServerFacts> {
  const server = await import('../packages/server/src/index.ts');
  const { PUBLIC_ROUTES } = await import('../packages/server/src/http/deny-anonymous.ts');
  const dir = await mkdtemp(join(tmpdir(), 'vidgenie-openapi-'));
  try {
    const dataDir = join(dir, 'data');
    await mkdir(dataDir);
    const config = server.loadConfig({ VIDGENIE_DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
    const services = await server.createServices(config, { background: false, work: false });
    try {
      const response = await server.createApp(services).request('/api/openapi.json');
      if (response.status !== 200) throw new Error(`GET /api/openapi.json answered ${response.status}`);
      return {
        document: (await response.json()) as OpenApiDocument,
        publicRoutes: PUBLIC_ROUTES,
        errorStatus: server.API_ERROR_STATUS,
      };
    } finally {
      await services.close({ graceMs: 0 });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Formats `text` with the repository's Biome configuration as the file `outFile` (its extension picks
 * the language), as `biome check --write` would.
 */
export function formatWithBiome(text: string, outFile: string): string {
  const biome = join(root, 'node_modules', '.bin', 'biome');
  const result = spawnSync(biome, ['format', `--stdin-file-path=${relative(root, outFile)}`], {
    cwd: root,
    input: text,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`biome format failed:\n${result.stderr}`);
  return result.stdout;
}

function hasSourceCondition(): boolean {
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return flags.some((flag) => flag.includes(SOURCE_CONDITION));
}

/**
 * Writes a generated file or, with `check`, compares it with the committed one. Returns the exit
 * code: 0 when written or up to date, 1 on drift (after saying which command regenerates it).
 */
export async function writeOrCheck(
  outFile: string,
  text: string,
  check: boolean,
  command: string,
): Promise<number> {
  const where = relative(root, outFile);
  if (check) {
    const current = existsSync(outFile) ? readFileSync(outFile, 'utf8') : '';
    if (current === text) {
      console.log(`${where} is up to date.`);
      return 0;
    }
    console.error(`${where} differs from the OpenAPI document: run \`${command}\` and commit it.`);
    return 1;
  }
  await mkdir(dirname(outFile), { recursive: true });
  writeFileSync(outFile, text);
  return 0;
}

/**
 * Runs `main` when the workspace packages resolve to their sources; otherwise runs the script at
 * `scriptUrl` (the caller's `import.meta.url`) again with the `@vidgenie/source` condition, so no
 * build is needed. Sets the process exit code to the result.
 */
export async function runWithSourceCondition(scriptUrl: string, main: () => Promise<number>): Promise<void> {
  if (hasSourceCondition()) {
    process.exitCode = await main();
    return;
  }
  const result = spawnSync(
    process.execPath,
    [
      ...process.execArgv,
      `--conditions=${SOURCE_CONDITION}`,
      fileURLToPath(scriptUrl),
      ...process.argv.slice(2),
    ],
    { stdio: 'inherit' },
  );
  process.exitCode = result.status ?? 1;
}

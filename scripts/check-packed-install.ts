/**
 * Proves the publishable packages install and work outside the monorepo, as a user gets them:
 *
 * 1. checks `pnpm build` ran (each package's `dist/` is there);
 * 2. `pnpm pack`s `@vidgenie/engine`, `@vidgenie/nodes` and `@vidgenie/server`, and lists each
 *    tarball: every file its `exports`, `main`, `types` and `bin` point at, its README.md and
 *    LICENSE must be inside, and its package.json must have no `workspace:` range left;
 * 3. creates a fresh project under the OS temp folder (no workspace links) and installs the three
 *    tarballs there with plain npm, with TypeScript, @types/node, tsx and zod from the registry;
 *    their dependencies are pinned (npm `overrides`) to the versions of the repository's lockfile,
 *    the ones the tests ran against, so a registry that lags behind a fresh publish cannot fail
 *    the check (`PACKED_LATEST=1` installs the newest versions the ranges allow instead);
 * 4. copies the `embed-engine` and `custom-provider` examples into it (they import the packages by
 *    name, as a user would), adds a provider conformance check on `node:test`, a server import and
 *    the ```ts blocks of the packages' READMEs, and type-checks everything with `tsc` under a
 *    strict tsconfig with `skipLibCheck: false`, so the shipped `.d.ts` files are checked too;
 * 5. runs the embedding program (its output must match the monorepo's), the custom-provider
 *    program (it must render an MP4), the conformance check, `vidgenie --help`,
 *    `vidgenie serve --help` and `vidgenie migrate` from the server tarball.
 *
 * Usage, from the repository root after `pnpm build`: `tsx scripts/check-packed-install.ts`.
 * Exits 1 with a message naming the package and what is missing. The temp folder is deleted at the
 * end unless `KEEP_PACKED=1`.
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const PNPM = 'pnpm@12.4.2';

/** A publishable package: its folder and the entry points its tarball must carry. */
interface PackageUnderTest {
  /** Folder under `packages/`. */
  readonly dir: string;
  /** Built files that must exist before packing (relative to the package folder). */
  readonly built: readonly string[];
}

const PACKAGES: readonly PackageUnderTest[] = [
  {
    dir: 'engine',
    built: ['dist/index.js', 'dist/index.d.ts', 'dist/testing/index.js', 'dist/testing/index.d.ts'],
  },
  {
    dir: 'nodes',
    built: ['dist/index.js', 'dist/index.d.ts', 'dist/testing/index.js', 'dist/testing/index.d.ts'],
  },
  { dir: 'server', built: ['dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js'] },
];

/** Error codes of {@link PackedInstallError}. */
type PackedInstallErrorCode =
  | 'NOT_BUILT'
  | 'PACK_FAILED'
  | 'TARBALL_INCOMPLETE'
  | 'WORKSPACE_RANGE_LEFT'
  | 'INSTALL_FAILED'
  | 'TYPECHECK_FAILED'
  | 'PROGRAM_FAILED'
  | 'OUTPUT_MISMATCH';

/** A check failed; the message names the package (when there is one) and what is wrong. */
class PackedInstallError extends Error {
  override readonly name = 'PackedInstallError';
  constructor(
    readonly code: PackedInstallErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The parts of a package.json this script reads. */
interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly main?: string;
  readonly types?: string;
  readonly bin?: string | Readonly<Record<string, string>>;
  readonly exports?: unknown;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly devDependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
}

function readManifest(path: string): Manifest {
  return JSON.parse(readFileSync(path, 'utf8')) as Manifest;
}

const started = performance.now();
const timings: { step: string; ms: number }[] = [];

/** Runs one named step, printing it and how long it took. */
async function step<T>(name: string, body: () => T | Promise<T>): Promise<T> {
  console.log(`\n▶ ${name}`);
  const t0 = performance.now();
  const result = await body();
  const ms = Math.round(performance.now() - t0);
  timings.push({ step: name, ms });
  console.log(`  ✓ ${name} (${(ms / 1000).toFixed(1)} s)`);
  return result;
}

/** Runs a command; throws `code` with the command's output when it does not exit 0. */
function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; code: PackedInstallErrorCode; what: string; env?: NodeJS.ProcessEnv },
): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, {
    cwd: options.cwd,
    encoding: 'utf8',
    env: { ...process.env, ...options.env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error !== undefined || result.status !== 0) {
    const output = [result.stdout, result.stderr].filter(Boolean).join('\n').trim();
    throw new PackedInstallError(
      options.code,
      `${options.what}: \`${command} ${args.join(' ')}\` (in ${options.cwd}) ${
        result.error === undefined
          ? `exited ${result.status ?? result.signal}`
          : `failed: ${result.error.message}`
      }\n${output}`,
    );
  }
  return result;
}

/** One package of `pnpm list --json`, with its dependencies. */
interface ListedPackage {
  readonly version?: string;
  readonly dependencies?: Readonly<Record<string, ListedPackage>>;
}

/**
 * The lockfile's version of every package the server's production dependencies pull in (the
 * engine's and the nodes' too, through their links), as npm `overrides`. Packages locked at more
 * than one version, the workspace's own and `exclude` (the temp project's direct dependencies,
 * which npm refuses to override) are left to npm.
 */
function lockedOverrides(exclude: ReadonlySet<string>): Record<string, string> {
  const listed = JSON.parse(
    run('npx', ['-y', PNPM, 'list', '--prod', '--depth', 'Infinity', '--json'], {
      cwd: join(root, 'packages', 'server'),
      code: 'INSTALL_FAILED',
      what: 'listing the locked dependency versions',
    }).stdout,
  ) as ListedPackage[];
  const versions = new Map<string, Set<string>>();
  const walk = (dependencies: ListedPackage['dependencies']): void => {
    for (const [name, dependency] of Object.entries(dependencies ?? {})) {
      const seen = versions.get(name) ?? new Set<string>();
      versions.set(name, seen);
      if (dependency.version !== undefined) seen.add(dependency.version);
      walk(dependency.dependencies);
    }
  };
  for (const project of listed) walk(project.dependencies);
  const overrides: Record<string, string> = {};
  for (const [name, seen] of [...versions].sort(([a], [b]) => a.localeCompare(b))) {
    const [version, ...others] = seen;
    if (version === undefined || others.length > 0 || exclude.has(name)) continue;
    if (version.startsWith('link:') || version.startsWith('file:')) continue;
    overrides[name] = version;
  }
  return overrides;
}

/** Every file path a manifest's `exports`, `main`, `types` and `bin` point at (no patterns). */
function entryFiles(manifest: Manifest): string[] {
  const files = new Set<string>();
  const add = (target: string) => {
    if (!target.includes('*')) files.add(target.replace(/^\.\//, ''));
  };
  const walk = (value: unknown) => {
    if (typeof value === 'string') add(value);
    else if (Array.isArray(value)) for (const item of value) walk(item);
    else if (value !== null && typeof value === 'object') for (const item of Object.values(value)) walk(item);
  };
  walk(manifest.exports);
  if (manifest.main !== undefined) add(manifest.main);
  if (manifest.types !== undefined) add(manifest.types);
  if (typeof manifest.bin === 'string') add(manifest.bin);
  else if (manifest.bin !== undefined) for (const target of Object.values(manifest.bin)) add(target);
  return [...files].sort();
}

/** Checks a tarball holds its entry points, README.md, LICENSE and no `workspace:` range. */
function checkTarball(pkg: PackageUnderTest, tarball: string): Manifest {
  const listing = run('tar', ['-tzf', tarball], {
    cwd: root,
    code: 'TARBALL_INCOMPLETE',
    what: `${pkg.dir}: listing the tarball`,
  });
  const entries = new Set(
    listing.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => line.replace(/^package\//, '')),
  );
  const packed = JSON.parse(
    run('tar', ['-xzOf', tarball, 'package/package.json'], {
      cwd: root,
      code: 'TARBALL_INCOMPLETE',
      what: `${pkg.dir}: reading package.json from the tarball`,
    }).stdout,
  ) as Manifest;
  const required = [
    ...new Set(['package.json', 'README.md', 'LICENSE', ...pkg.built, ...entryFiles(packed)]),
  ];
  const missing = required.filter((file) => !entries.has(file));
  if (missing.length > 0) {
    throw new PackedInstallError(
      'TARBALL_INCOMPLETE',
      `${packed.name}: the tarball misses ${missing.join(', ')} (check "files" in packages/${pkg.dir}/package.json and that the build emits them)`,
    );
  }
  const sections = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'] as const;
  const leftovers = sections.flatMap((section) =>
    Object.entries(packed[section] ?? {})
      .filter(([, range]) => range.startsWith('workspace:'))
      .map(([name, range]) => `${section}.${name} = ${range}`),
  );
  if (leftovers.length > 0) {
    throw new PackedInstallError(
      'WORKSPACE_RANGE_LEFT',
      `${packed.name}: the packed package.json still has workspace ranges: ${leftovers.join(', ')}`,
    );
  }
  console.log(
    `  ${packed.name}@${packed.version}: ${entries.size} files, entries ok (${required.length} checked)`,
  );
  return packed;
}

/** The ```ts blocks of a Markdown file. */
function tsBlocks(markdown: string): string[] {
  const blocks: string[] = [];
  const pattern = /^```(?:ts|typescript)[^\n]*\n([\s\S]*?)^```/gm;
  for (const match of markdown.matchAll(pattern)) blocks.push(match[1] ?? '');
  return blocks;
}

/** Lines of a program's output, sorted: concurrent nodes may interleave their events differently. */
function sortedLines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trimEnd())
    .filter(Boolean)
    .sort();
}

/** Copies a folder, leaving its test files out. */
function copySources(from: string, to: string): void {
  cpSync(from, to, { recursive: true, filter: (source) => !/\.test(-d)?\.ts$/.test(source) });
}

/** The tsconfig of the temp project: strict, NodeNext, and the packages' `.d.ts` files checked. */
const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2023'],
    module: 'nodenext',
    moduleResolution: 'nodenext',
    strict: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    noImplicitOverride: true,
    verbatimModuleSyntax: true,
    isolatedModules: true,
    allowImportingTsExtensions: true,
    noEmit: true,
    skipLibCheck: false,
    types: ['node'],
  },
  include: ['embed-engine', 'custom-provider', 'server-import.ts', 'readme-examples'],
};

/** The custom provider through the conformance kit, on `node:test` (no Vitest in the temp project). */
const CONFORMANCE_TEST = `import { after, before, describe, it } from 'node:test';
import { describeProviderConformance } from '@vidgenie/nodes/testing';
import { ACME_FAKE_KEY, type AcmeFake, createAcmeImageProvider, startAcmeFake } from './acme-image/index.ts';

let fake: AcmeFake;
before(async () => {
  fake = await startAcmeFake();
});
after(async () => {
  await fake.close();
});

describeProviderConformance({
  name: 'acme-image (fake)',
  createProvider: () => createAcmeImageProvider({ baseURL: fake.url }),
  key: { valid: ACME_FAKE_KEY, invalid: 'acme-live-wrong-key-9999' },
  describe,
  it,
});
`;

/** Imports the server package the way an embedder would, and prints what it found. */
const SERVER_IMPORT = `import * as server from '@vidgenie/server';
import { type ServerConfig, ServerConfigSchema } from '@vidgenie/server';

const config: ServerConfig = ServerConfigSchema.parse({});
console.log(\`@vidgenie/server: \${Object.keys(server).length} exports, default port \${config.PORT}\`);
`;

async function main(): Promise<void> {
  console.log(`Packed install check (node ${process.version}, ${PNPM})`);
  const manifests = new Map<string, Manifest>();

  await step('Checking the packages are built', () => {
    for (const pkg of PACKAGES) {
      const dir = join(root, 'packages', pkg.dir);
      const manifest = readManifest(join(dir, 'package.json'));
      manifests.set(pkg.dir, manifest);
      const missing = pkg.built.filter((file) => !existsSync(join(dir, file)));
      if (missing.length > 0) {
        throw new PackedInstallError(
          'NOT_BUILT',
          `${manifest.name}: ${missing.join(', ')} missing in packages/${pkg.dir}: run \`npx -y ${PNPM} build\` first`,
        );
      }
    }
  });

  const temp = mkdtempSync(join(tmpdir(), 'vidgenie-packed-'));
  const tarballDir = join(temp, 'tarballs');
  const project = join(temp, 'project');
  mkdirSync(tarballDir);
  mkdirSync(project);
  console.log(`  temp folder: ${temp}`);
  let passed = false;
  try {
    const tarballs = await step('Packing with pnpm pack', () =>
      PACKAGES.map((pkg) => {
        const dir = join(root, 'packages', pkg.dir);
        const before = new Set(readdirSync(tarballDir));
        run('npx', ['-y', PNPM, 'pack', '--pack-destination', tarballDir], {
          cwd: dir,
          code: 'PACK_FAILED',
          what: `${manifests.get(pkg.dir)?.name ?? pkg.dir}: pnpm pack`,
        });
        const created = readdirSync(tarballDir).filter((file) => file.endsWith('.tgz') && !before.has(file));
        if (created.length !== 1 || created[0] === undefined) {
          throw new PackedInstallError(
            'PACK_FAILED',
            `${pkg.dir}: pnpm pack made ${created.length} tarballs`,
          );
        }
        const tarball = join(tarballDir, created[0]);
        console.log(`  ${relative(temp, tarball)}`);
        return { pkg, tarball };
      }),
    );

    await step('Checking the tarballs', () => {
      for (const { pkg, tarball } of tarballs) checkTarball(pkg, tarball);
    });

    const rootManifest = readManifest(join(root, 'package.json'));
    const zod = manifests.get('engine')?.dependencies?.zod ?? 'latest';
    const typescript = rootManifest.devDependencies?.typescript ?? 'latest';
    const tsx = rootManifest.devDependencies?.tsx ?? 'latest';
    const typesNode = rootManifest.devDependencies?.['@types/node'] ?? 'latest';

    await step('Installing the tarballs with npm into a fresh project', () => {
      const direct = new Set(['typescript', '@types/node', 'tsx', 'zod']);
      const overrides = process.env.PACKED_LATEST === '1' ? {} : lockedOverrides(direct);
      const pinned = Object.keys(overrides).length;
      console.log(
        pinned > 0
          ? `  ${pinned} dependencies pinned to the lockfile's versions (PACKED_LATEST=1 for the newest)`
          : '  dependencies at the newest versions their ranges allow',
      );
      writeFileSync(
        join(project, 'package.json'),
        `${JSON.stringify({ name: 'vidgenie-packed-install-check', version: '0.0.0', private: true, type: 'module', overrides }, null, 2)}\n`,
      );
      run(
        'npm',
        [
          'install',
          '--no-audit',
          '--no-fund',
          '--prefer-online',
          ...tarballs.map(({ tarball }) => tarball),
          `typescript@${typescript}`,
          `@types/node@${typesNode}`,
          `tsx@${tsx}`,
          `zod@${zod}`,
        ],
        // The project lives outside the repository: npm sees none of the workspace's settings or links.
        { cwd: project, code: 'INSTALL_FAILED', what: 'npm install of the tarballs' },
      );
      for (const { pkg } of tarballs) {
        const name = manifests.get(pkg.dir)?.name ?? pkg.dir;
        if (!existsSync(join(project, 'node_modules', ...name.split('/'), 'package.json'))) {
          throw new PackedInstallError('INSTALL_FAILED', `${name}: not in the temp project's node_modules`);
        }
      }
    });

    await step('Writing the programs (examples, conformance check, server import, README examples)', () => {
      copySources(join(root, 'examples', 'embed-engine', 'src'), join(project, 'embed-engine'));
      copySources(join(root, 'examples', 'custom-provider', 'src'), join(project, 'custom-provider'));
      writeFileSync(join(project, 'custom-provider', 'conformance.test.ts'), CONFORMANCE_TEST);
      writeFileSync(join(project, 'server-import.ts'), SERVER_IMPORT);
      mkdirSync(join(project, 'readme-examples'));
      for (const { pkg } of tarballs) {
        const readme = join(root, 'packages', pkg.dir, 'README.md');
        const blocks = existsSync(readme) ? tsBlocks(readFileSync(readme, 'utf8')) : [];
        blocks.forEach((code, index) => {
          // Each block is its own module, so blocks never share a scope.
          writeFileSync(
            join(project, 'readme-examples', `${pkg.dir}-${index + 1}.ts`),
            `${code}\nexport {};\n`,
          );
        });
        console.log(`  packages/${pkg.dir}/README.md: ${blocks.length} ts block(s)`);
      }
      writeFileSync(join(project, 'tsconfig.json'), `${JSON.stringify(TSCONFIG, null, 2)}\n`);
    });

    await step('Type-checking with tsc (skipLibCheck: false)', () => {
      run('npx', ['tsc', '-p', '.'], {
        cwd: project,
        code: 'TYPECHECK_FAILED',
        what: 'the packages’ types, used from a fresh project',
      });
    });

    const expected = await step('Running the embedding example in the monorepo (for reference)', () =>
      run('npx', ['tsx', 'src/main.ts'], {
        cwd: join(root, 'examples', 'embed-engine'),
        code: 'PROGRAM_FAILED',
        what: 'examples/embed-engine in the monorepo',
      }),
    );

    await step('Running the embedding example from the tarballs', () => {
      const actual = run('npx', ['tsx', 'embed-engine/main.ts'], {
        cwd: project,
        code: 'PROGRAM_FAILED',
        what: '@vidgenie/engine: the embedding example',
      });
      const want = sortedLines(expected.stdout);
      const got = sortedLines(actual.stdout);
      const extra = got.filter((line) => !want.includes(line));
      const lacking = want.filter((line) => !got.includes(line));
      if (extra.length > 0 || lacking.length > 0 || want.length !== got.length) {
        throw new PackedInstallError(
          'OUTPUT_MISMATCH',
          `@vidgenie/engine: the embedding example printed something else outside the monorepo.\nMissing lines:\n${lacking.join('\n')}\nUnexpected lines:\n${extra.join('\n')}`,
        );
      }
      console.log(`  ${got.length} lines, the same as in the monorepo`);
    });

    await step('Running the custom-provider example from the tarballs', () => {
      const result = run('npx', ['tsx', 'custom-provider/main.ts'], {
        cwd: project,
        code: 'PROGRAM_FAILED',
        what: '@vidgenie/nodes: the custom-provider example',
      });
      const mp4 = /^MP4: (.+\.mp4)$/m.exec(result.stdout)?.[1];
      if (!/Acme Images rendered 1 image\(s\) for an 8 s video\./.test(result.stdout) || mp4 === undefined) {
        throw new PackedInstallError(
          'OUTPUT_MISMATCH',
          `@vidgenie/nodes: the custom-provider example did not report its video:\n${result.stdout}`,
        );
      }
      if (!existsSync(mp4)) {
        throw new PackedInstallError('OUTPUT_MISMATCH', `@vidgenie/nodes: the MP4 ${mp4} does not exist`);
      }
      console.log(result.stdout.trimEnd().replace(/^/gm, '  '));
    });

    await step('Running the provider conformance kit (@vidgenie/nodes/testing) on node:test', () => {
      const result = run('npx', ['tsx', '--test', 'custom-provider/conformance.test.ts'], {
        cwd: project,
        code: 'PROGRAM_FAILED',
        what: '@vidgenie/nodes/testing: the conformance kit',
      });
      const passes = Number(/^# pass (\d+)$/m.exec(result.stdout)?.[1] ?? 0);
      if (passes === 0 || !/^# fail 0$/m.test(result.stdout)) {
        throw new PackedInstallError(
          'PROGRAM_FAILED',
          `@vidgenie/nodes/testing: the conformance kit ran no passing test:\n${result.stdout}`,
        );
      }
      console.log(`  ${passes} conformance tests passed`);
    });

    await step('Importing @vidgenie/server', () => {
      const result = run('npx', ['tsx', 'server-import.ts'], {
        cwd: project,
        code: 'PROGRAM_FAILED',
        what: '@vidgenie/server: importing the package',
      });
      console.log(result.stdout.trimEnd().replace(/^/gm, '  '));
    });

    await step('Running the vidgenie command from the server tarball', () => {
      const env = { VIDGENIE_DATA_DIR: join(temp, 'data'), LOG_LEVEL: 'silent', NO_COLOR: '1' };
      for (const args of [
        ['--help'],
        ['serve', '--help'],
        ['worker', '--help'],
        ['keys', 'rotate', '--help'],
      ]) {
        const result = run('npx', ['vidgenie', ...args], {
          cwd: project,
          env,
          code: 'PROGRAM_FAILED',
          what: `@vidgenie/server: vidgenie ${args.join(' ')}`,
        });
        const command = ['vidgenie', ...args.filter((arg) => arg !== '--help')].join(' ');
        if (!result.stdout.includes(`USAGE ${command}`) || !result.stdout.includes('ENVIRONMENT')) {
          throw new PackedInstallError(
            'OUTPUT_MISMATCH',
            `@vidgenie/server: \`vidgenie ${args.join(' ')}\` printed no usage or no ENVIRONMENT section:\n${result.stdout}`,
          );
        }
        console.log(`  vidgenie ${args.join(' ')}: ${result.stdout.split('\n').length} lines of usage`);
      }
      // Migrations are read from the package at run time: this fails if their files were not packed.
      const migrated = run('npx', ['vidgenie', 'migrate'], {
        cwd: project,
        env,
        code: 'PROGRAM_FAILED',
        what: '@vidgenie/server: vidgenie migrate on an embedded database',
      });
      if (!/Applied: /.test(migrated.stdout)) {
        throw new PackedInstallError(
          'OUTPUT_MISMATCH',
          `@vidgenie/server: \`vidgenie migrate\` applied nothing:\n${migrated.stdout}`,
        );
      }
      console.log(`  vidgenie migrate: ${migrated.stdout.trim()}`);
    });
    passed = true;
  } finally {
    if (process.env.KEEP_PACKED === '1' || !passed) {
      console.log(`\nKept ${temp} (${passed ? 'KEEP_PACKED=1' : 'for inspection; delete it when done'})`);
    } else {
      rmSync(temp, { recursive: true, force: true });
    }
  }
  const total = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`\nPacked install check passed in ${total} s:`);
  for (const { step: name, ms } of timings) console.log(`  ${(ms / 1000).toFixed(1).padStart(6)} s  ${name}`);
}

main().catch((error: unknown) => {
  if (error instanceof PackedInstallError) console.error(`\n✗ [${error.code}] ${error.message}`);
  else console.error(error);
  process.exitCode = 1;
});

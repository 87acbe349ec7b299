/**
 * Type-checks every TypeScript example a reader might copy:
 *
 * - each ```ts block in `docs/**\/*.md` (but the generated `docs/reference/typescript/`), the README and
 *   each package's and example's README;
 * - each ```ts block inside a TSDoc `@example` section of `packages/*\/src/**\/*.ts` (tests excluded).
 *
 * Each block is written to its own file in `.doc-examples/` (git-ignored) and the folder is checked
 * with `tsc --noEmit -p`. Blocks must be self-contained (their own imports); the files are ES
 * modules, so top-level `await` works. Workspace packages resolve to their TypeScript sources
 * through the `@vidgenie/source` export condition, so no build is needed.
 *
 * Usage: `pnpm docs:check` (exits 1 and lists the file and block of every error).
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

const root = join(import.meta.dirname, '..');
const outDir = join(root, '.doc-examples');
const tscBin = join(root, 'node_modules', '.bin', 'tsc');

/** One extracted code block and where it came from. */
interface Block {
  /** The source file, relative to the repository root. */
  readonly source: string;
  /** 1-based line in `source` of the block's first code line. */
  readonly line: number;
  /** The block's number within its source file, from 1. */
  readonly index: number;
  readonly code: string;
  /** The generated file's name in `.doc-examples/`. */
  file: string;
}

const TS_FENCE = /^(\s*)(`{3,}|~{3,})\s*(ts|typescript)(\s.*)?$/;

/** Extracts ```ts blocks from lines, reporting each block's first code line (1-based, plus `offset`). */
function fencedBlocks(lines: readonly string[], offset: number): { line: number; code: string }[] {
  const blocks: { line: number; code: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = TS_FENCE.exec(lines[i] ?? '');
    if (open === null) continue;
    const indent = open[1]?.length ?? 0;
    const fence = open[2] ?? '```';
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const text = lines[j] ?? '';
      if (text.trim().startsWith(fence) && text.trim().replaceAll(fence[0] ?? '`', '') === '') break;
      body.push(text.slice(Math.min(indent, text.length - text.trimStart().length)));
    }
    blocks.push({ line: offset + i + 2, code: `${body.join('\n')}\n` });
    i = j;
  }
  return blocks;
}

/** The ```ts blocks of a Markdown file. */
function markdownBlocks(text: string): { line: number; code: string }[] {
  return fencedBlocks(text.split('\n'), 0);
}

/**
 * The ```ts blocks inside `@example` sections of TSDoc comments. A section runs from `@example` to
 * the next block tag or the end of the comment; the comment's ` * ` prefixes are stripped, and
 * lines keep their numbers so errors point at the source.
 */
function tsdocExampleBlocks(text: string): { line: number; code: string }[] {
  const lines = text.split('\n');
  const blocks: { line: number; code: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!(lines[i] ?? '').trimStart().startsWith('/**')) continue;
    let end = i;
    while (end < lines.length && !(lines[end] ?? '').includes('*/')) end++;
    const body = lines.slice(i, end + 1).map((l) =>
      l
        .replace(/^\s*\/\*\*\s?/, '')
        .replace(/\s*\*\/\s*$/, '')
        .replace(/^\s*\*(?!\/) ?/, ''),
    );
    let inExample = false;
    let inFence = false;
    const section: string[] = [];
    let sectionStart = 0;
    const flush = () => {
      if (section.length > 0) blocks.push(...fencedBlocks(section, i + sectionStart));
      section.length = 0;
    };
    body.forEach((line, k) => {
      if (/^(`{3,}|~{3,})/.test(line.trim())) inFence = !inFence;
      const tag = inFence ? null : /^\s*@(\w+)/.exec(line);
      if (tag !== null && tag[1] !== undefined) {
        flush();
        inExample = tag[1] === 'example';
        sectionStart = k + 1;
        return;
      }
      if (inExample) section.push(line);
    });
    flush();
    i = end;
  }
  return blocks;
}

function walk(dir: string, keep: (path: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => !path.split(sep).includes('node_modules') && keep(path))
    .sort();
}

function collectBlocks(): Block[] {
  const blocks: Block[] = [];
  const add = (path: string, found: { line: number; code: string }[]) => {
    const source = relative(root, path).split(sep).join('/');
    found.forEach((b, k) => {
      blocks.push({ source, line: b.line, index: k + 1, code: b.code, file: '' });
    });
  };
  // The generated TypeScript reference repeats the TSDoc examples checked below: left out.
  const generated = join(root, 'docs', 'reference', 'typescript');
  const markdown = [
    ...walk(join(root, 'docs'), (p) => p.endsWith('.md') && !p.startsWith(generated)),
    join(root, 'README.md'),
    ...['packages', 'examples'].flatMap((folder) =>
      readdirSync(join(root, folder)).map((name) => join(root, folder, name, 'README.md')),
    ),
  ].filter((path) => existsSync(path));
  for (const path of markdown) {
    add(path, markdownBlocks(readFileSync(path, 'utf8')));
  }
  const packagesDir = join(root, 'packages');
  const packages = existsSync(packagesDir) ? readdirSync(packagesDir) : [];
  for (const pkg of packages.sort()) {
    const isSource = (p: string) =>
      p.endsWith('.ts') &&
      !p.endsWith('.d.ts') &&
      !/\.(test|spec|test-d)\.ts$/.test(p) &&
      !p.split(sep).includes('__tests__');
    for (const path of walk(join(packagesDir, pkg, 'src'), isSource)) {
      add(path, tsdocExampleBlocks(readFileSync(path, 'utf8')));
    }
  }
  for (const block of blocks) {
    const stem = block.source.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '');
    block.file = `${stem}--${String(block.index).padStart(2, '0')}.ts`;
  }
  return blocks;
}

/**
 * Links every workspace package (and the dependencies of those packages) into
 * `.doc-examples/node_modules`, so examples import `@vidgenie/engine`, `zod`, ... as a consumer
 * would. Root dev dependencies (vitest, @types/node) resolve from the root `node_modules`.
 */
function linkWorkspacePackages(): void {
  const modules = join(outDir, 'node_modules');
  const link = (name: string, target: string) => {
    const path = join(modules, ...name.split('/'));
    if (existsSync(path)) return;
    mkdirSync(dirname(path), { recursive: true });
    symlinkSync(target, path, 'dir');
  };
  const packagesDir = join(root, 'packages');
  if (!existsSync(packagesDir)) return;
  const manifests = readdirSync(packagesDir)
    .map((dir) => join(packagesDir, dir))
    .filter((dir) => existsSync(join(dir, 'package.json')));
  for (const dir of manifests) {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string };
    link(manifest.name, dir);
  }
  for (const dir of manifests) {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
    };
    for (const dep of Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies })) {
      const installed = join(dir, 'node_modules', ...dep.split('/'));
      if (existsSync(installed)) link(dep, realpathSync(installed));
    }
  }
}

function writeProject(blocks: readonly Block[]): void {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  // `"type": "module"` makes every generated `.ts` file an ES module under NodeNext (top-level await).
  writeFileSync(
    join(outDir, 'package.json'),
    `${JSON.stringify({ private: true, type: 'module' }, null, 2)}\n`,
  );
  const tsconfig = {
    extends: '../tsconfig.base.json',
    compilerOptions: {
      noEmit: true,
      // Resolve workspace packages to their TypeScript sources (their `@vidgenie/source` export).
      customConditions: ['@vidgenie/source'],
      // Treat every block as a module even without imports, so blocks never share a global scope.
      moduleDetection: 'force',
      types: ['node'],
    },
    include: ['*.ts'],
  };
  writeFileSync(join(outDir, 'tsconfig.json'), `${JSON.stringify(tsconfig, null, 2)}\n`);
  writeFileSync(join(outDir, 'README.md'), 'Generated by scripts/check-doc-examples.ts; safe to delete.\n');
  linkWorkspacePackages();
  for (const block of blocks) {
    const header = `// From ${block.source}:${block.line} (block ${block.index}). Generated: do not edit.\n`;
    // The header takes one line, so a generated line N is source line block.line + N - 2.
    writeFileSync(join(outDir, block.file), header + block.code);
  }
}

function main(): number {
  const blocks = collectBlocks();
  writeProject(blocks);
  const docs = blocks.filter((b) => b.source.endsWith('.md')).length;
  console.log(
    `Checking ${blocks.length} TypeScript examples (${docs} from Markdown, ${blocks.length - docs} from TSDoc) in ${relative(root, outDir)}/`,
  );
  if (blocks.length === 0) return 0;

  const result = spawnSync(tscBin, ['--noEmit', '--pretty', 'false', '-p', join(outDir, 'tsconfig.json')], {
    cwd: root,
    encoding: 'utf8',
  });
  if (result.error !== undefined) {
    console.error(`Could not run ${relative(root, tscBin)}: ${result.error.message}`);
    return 1;
  }
  const output = `${result.stdout}${result.stderr}`.trim();
  if (result.status === 0) {
    console.log('All examples type-check.');
    return 0;
  }

  const byFile = new Map(blocks.map((b) => [b.file, b]));
  const failed = new Set<Block>();
  const lines: string[] = [];
  for (const line of output.split('\n')) {
    const match = /^(.*?)\((\d+),(\d+)\): (error .*)$/.exec(line);
    const file = match?.[1]?.split(/[\\/]/).at(-1);
    const block = file === undefined ? undefined : byFile.get(file);
    if (match === null || block === undefined) {
      lines.push(`  ${line}`);
      continue;
    }
    failed.add(block);
    const sourceLine = block.line + Number(match[2]) - 2;
    lines.push(
      `  ${block.source}:${sourceLine}:${match[3]} (block ${block.index}, .doc-examples/${block.file}): ${match[4]}`,
    );
  }
  console.error(`\n${failed.size} example block(s) do not type-check:\n`);
  console.error(lines.join('\n'));
  return 1;
}

process.exitCode = main();

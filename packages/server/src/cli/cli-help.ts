import { type ArgsDef, type CommandDef, type CommandMeta, type Resolvable, renderUsage } from 'citty';

/** One environment variable a command reads, as its help lists it. */
export interface CliEnvironmentHelp {
  /** The variable's name, a key of `ServerConfigSchema`. */
  readonly name: string;
  /** What it does and its default, in a few words. */
  readonly meaning: string;
}

/** The help's extra sections for one command: the settings that matter to it, and examples. */
export interface CliCommandHelp {
  readonly environment: readonly CliEnvironmentHelp[];
  readonly examples: readonly string[];
}

const DATA_DIR: CliEnvironmentHelp = {
  name: 'VIDGENIE_DATA_DIR',
  meaning: 'embedded PGlite data and vault key file (default ./.vidgenie)',
};
const DATABASE_URL: CliEnvironmentHelp = {
  name: 'DATABASE_URL',
  meaning: 'PostgreSQL (postgres://…); embedded PGlite when unset',
};
const ENCRYPTION_KEYS: CliEnvironmentHelp = {
  name: 'VIDGENIE_ENCRYPTION_KEYS',
  meaning: 'vault key ring, id:base64 entries, the last encrypts (required in production with DATABASE_URL)',
};
const S3_BUCKET: CliEnvironmentHelp = {
  name: 'S3_BUCKET',
  meaning: 'media on S3 instead of files (with S3_REGION, S3_ENDPOINT, S3_ACCESS_KEY_ID…)',
};
const LOG_LEVEL: CliEnvironmentHelp = {
  name: 'LOG_LEVEL',
  meaning: 'pino level (default info; silent for none)',
};

/**
 * The settings and examples each command's `--help` adds to its options, keyed by the command's
 * path (`vidgenie`, `vidgenie serve`, `vidgenie keys rotate`…).
 */
export const CLI_HELP: Readonly<Record<string, CliCommandHelp>> = {
  vidgenie: {
    environment: [
      { name: 'PORT', meaning: 'port of the API (default 3000)' },
      { name: 'HOST', meaning: 'interface to bind (default 127.0.0.1)' },
      DATA_DIR,
      DATABASE_URL,
      ENCRYPTION_KEYS,
      LOG_LEVEL,
    ],
    examples: [
      'vidgenie serve                                   # embedded: PGlite under ./.vidgenie',
      'DATABASE_URL=postgres://… vidgenie migrate       # then serve and workers on PostgreSQL',
    ],
  },
  'vidgenie serve': {
    environment: [
      { name: 'PORT', meaning: 'port to listen on (default 3000)' },
      { name: 'HOST', meaning: 'interface to bind (default 127.0.0.1; 0.0.0.0 for every interface)' },
      {
        name: 'VIDGENIE_PUBLIC_URL',
        meaning: 'the URL users reach; https:// turns on Secure cookies and HSTS',
      },
      DATA_DIR,
      DATABASE_URL,
      ENCRYPTION_KEYS,
      { name: 'VIDGENIE_RUN_WORKER', meaning: 'also execute runs in this process (default true)' },
      S3_BUCKET,
      { name: 'VIDGENIE_METRICS_TOKEN', meaning: 'Bearer token for GET /metrics' },
      {
        name: 'VIDGENIE_KEEP_ALIVE_SECONDS',
        meaning: 'how long idle HTTP connections stay open (default 65; above a load balancer idle timeout)',
      },
      { name: 'VIDGENIE_SHUTDOWN_GRACE_SECONDS', meaning: 'how long SIGTERM lets runs finish (default 25)' },
      LOG_LEVEL,
    ],
    examples: [
      'vidgenie serve --port 8080',
      'HOST=0.0.0.0 VIDGENIE_PUBLIC_URL=https://vidgenie.example.com vidgenie serve',
    ],
  },
  'vidgenie worker': {
    environment: [
      { name: 'DATABASE_URL', meaning: 'PostgreSQL (postgres://…), required: workers share runs through it' },
      ENCRYPTION_KEYS,
      { name: 'VIDGENIE_WORKER_CONCURRENCY', meaning: 'runs this process executes at once (default 20)' },
      { name: 'VIDGENIE_LEASE_SECONDS', meaning: 'lease of a run without a heartbeat (default 15)' },
      { name: 'VIDGENIE_FFMPEG_CONCURRENCY', meaning: 'ffmpeg processes at once (default: one per core)' },
      { name: 'VIDGENIE_FFMPEG_NICE', meaning: 'how much lower than the server ffmpeg runs (default 10)' },
      { name: 'VIDGENIE_SHUTDOWN_GRACE_SECONDS', meaning: 'how long SIGTERM lets runs finish (default 25)' },
      S3_BUCKET,
      LOG_LEVEL,
    ],
    examples: ['DATABASE_URL=postgres://… VIDGENIE_ENCRYPTION_KEYS=… vidgenie worker --port 9100'],
  },
  'vidgenie migrate': {
    environment: [DATABASE_URL, DATA_DIR],
    examples: ['DATABASE_URL=postgres://… vidgenie migrate'],
  },
  'vidgenie keys': {
    environment: [DATABASE_URL, DATA_DIR, ENCRYPTION_KEYS],
    examples: ['vidgenie keys rotate'],
  },
  'vidgenie keys rotate': {
    environment: [
      DATABASE_URL,
      DATA_DIR,
      {
        name: 'VIDGENIE_ENCRYPTION_KEYS',
        meaning: 'with DATABASE_URL: append the new key to the ring first, then rotate',
      },
    ],
    examples: [
      'vidgenie keys rotate                              # embedded: adds a key version, then re-encrypts',
      'VIDGENIE_ENCRYPTION_KEYS=k1:…,k2:… DATABASE_URL=postgres://… vidgenie keys rotate --batch-size 500',
    ],
  },
};

async function metaOf(cmd: { readonly meta?: Resolvable<CommandMeta> } | undefined): Promise<CommandMeta> {
  const meta = cmd?.meta;
  return (typeof meta === 'function' ? await meta() : await meta) ?? {};
}

/** Whether citty colours its output; the extra sections follow the same rule. */
function colorless(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.NO_COLOR === '1' || env.TERM === 'dumb' || Boolean(env.TEST) || Boolean(env.CI);
}

function heading(text: string): string {
  return colorless() ? text : `\u001B[4m\u001B[1m${text}\u001B[22m\u001B[24m`;
}

/**
 * Renders a command's `--help`: citty's usage (named by the command's full path, e.g.
 * `vidgenie keys rotate`), then the environment variables that matter to it and examples.
 */
export async function renderCliHelp<T extends ArgsDef = ArgsDef, P extends ArgsDef = ArgsDef>(
  cmd: CommandDef<T>,
  parent?: CommandDef<P>,
): Promise<string> {
  const name = (await metaOf(cmd)).name ?? 'vidgenie';
  const parentMeta = parent === undefined ? undefined : await metaOf(parent);
  const parentName = parentMeta?.name;
  // citty names a command by its parent and itself only: give nested commands their full path.
  const parentPath =
    parentName === undefined || parentName === 'vidgenie' ? parentName : `vidgenie ${parentName}`;
  const path = parentPath === undefined ? name : `${parentPath} ${name}`;
  // citty reads only the parent's meta (its name and version).
  const usageParent: CommandDef<T> | undefined =
    parentMeta === undefined
      ? undefined
      : { meta: { ...parentMeta, ...(parentPath === undefined ? {} : { name: parentPath }) } };
  const usage = await renderUsage(cmd, usageParent);
  const help = CLI_HELP[path];
  if (help === undefined) return usage;
  const width = Math.max(...help.environment.map((variable) => variable.name.length));
  const lines = [usage.trimEnd(), ''];
  if (help.environment.length > 0) {
    lines.push(heading('ENVIRONMENT'), '');
    for (const variable of help.environment)
      lines.push(`  ${variable.name.padEnd(width)}    ${variable.meaning}`);
    lines.push('');
  }
  if (help.examples.length > 0) {
    lines.push(heading('EXAMPLES'), '');
    for (const example of help.examples) lines.push(`  ${example}`);
    lines.push('');
  }
  lines.push(
    'Every setting is an environment variable, checked at start-up: https://github.com/vidgenie/vidgenie/blob/main/docs/server.md',
  );
  return lines.join('\n');
}

/** Prints {@link renderCliHelp}; `runMain`'s `showUsage` for the `vidgenie` command. */
export async function showCliHelp<T extends ArgsDef = ArgsDef>(
  cmd: CommandDef<T>,
  parent?: CommandDef<T>,
): Promise<void> {
  console.log(`${await renderCliHelp(cmd, parent)}\n`);
}

import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import {
  createKeyRing,
  decodeVaultKey,
  generateVaultKey,
  KEY_ID_PATTERN,
  type KeyRing,
  type KeyRingEntry,
  KeyRingError,
  type KeyRingKey,
} from './key-ring.ts';

/** The key file's name inside the data directory. */
export const VAULT_KEY_FILE_NAME = 'vault-keys.json';
const DAY_MS = 86_400_000;

const KeyFileSchema = z.object({
  version: z.literal(1),
  keys: z
    .array(
      z.object({
        id: z.string().regex(KEY_ID_PATTERN),
        key: z.string(),
        createdAt: z.iso.datetime(),
      }),
    )
    .min(1),
});

/** What {@link loadOrCreateKeyFile} and {@link rotateKeyFile} did. */
export interface KeyFileResult {
  readonly ring: KeyRing;
  /** The key file's path. */
  readonly path: string;
  /** True when this call created the file (first start). */
  readonly created: boolean;
  /** The key version this call added, if any (rotation). */
  readonly added: KeyRingKey | undefined;
  /** Things an operator should know (e.g. permissions that were tightened). */
  readonly warnings: readonly string[];
}

/**
 * The embedded key ring: `<dataDir>/vault-keys.json` holds every key version (id, base64 key,
 * creation time), the last one active. The first call creates it (directory 0700 when created,
 * file 0600); later calls read it and tighten its permissions if they were loosened. With
 * `rotationDays`, a new version is added when the active one is at least that old; rows are then
 * rewrapped by `rewrap` (in the background or by `vidgenie keys rotate`). Every write goes to a
 * temporary 0600 file renamed over the old one, so a crash never leaves a half-written ring.
 * Throws {@link KeyRingError} when the file is malformed (never echoing a key).
 *
 * @example
 * ```ts
 * import { loadOrCreateKeyFile } from '@vidgenie/server';
 * const { ring, created } = await loadOrCreateKeyFile('./.vidgenie', { now: new Date(), rotationDays: 90 });
 * console.log(created, ring.active.id);
 * ```
 */
export async function loadOrCreateKeyFile(
  dataDir: string,
  options: { readonly now: Date; readonly rotationDays?: number | undefined },
): Promise<KeyFileResult> {
  const path = join(dataDir, VAULT_KEY_FILE_NAME);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  let created = false;
  let entries = await readKeyFile(path);
  if (entries === undefined) {
    const first: KeyRingEntry[] = [
      { id: nextKeyId([], options.now), key: generateVaultKey(), createdAt: options.now },
    ];
    created = await writeKeyFile(path, first, { exclusive: true });
    // Another process may have created it first: use theirs.
    entries = created ? first : await readKeyFile(path);
    if (entries === undefined) throw new KeyRingError(`${path}: could not create the vault key file.`);
  }
  const warnings = await tightenPermissions(path);
  let added: KeyRingKey | undefined;
  const active = entries.at(-1)!;
  const rotationDays = options.rotationDays;
  if (
    !created &&
    rotationDays !== undefined &&
    options.now.getTime() - active.createdAt!.getTime() >= rotationDays * DAY_MS
  ) {
    entries = await appendKey(path, options.now);
    added = keyOf(entries.at(-1)!);
  }
  return { ring: createKeyRing(entries, { source: 'file' }), path, created, added, warnings };
}

/**
 * Adds a new key version to the key file (creating the file first if needed) and makes it active:
 * the embedded half of `vidgenie keys rotate`. Rewrap the rows afterwards.
 *
 * @example
 * ```ts
 * import { rotateKeyFile } from '@vidgenie/server';
 * const { ring, added } = await rotateKeyFile('./.vidgenie', { now: new Date() });
 * console.log(added?.id === ring.active.id); // true
 * ```
 */
export async function rotateKeyFile(
  dataDir: string,
  options: { readonly now: Date },
): Promise<KeyFileResult> {
  const loaded = await loadOrCreateKeyFile(dataDir, { now: options.now });
  const entries = await appendKey(loaded.path, options.now);
  return {
    ring: createKeyRing(entries, { source: 'file' }),
    path: loaded.path,
    created: loaded.created,
    added: keyOf(entries.at(-1)!),
    warnings: loaded.warnings,
  };
}

function keyOf(entry: KeyRingEntry): KeyRingKey {
  return { id: entry.id, createdAt: entry.createdAt };
}

/** Re-reads the file (so a concurrent rotation's key is kept), appends a version, writes. */
async function appendKey(path: string, now: Date): Promise<KeyRingEntry[]> {
  const current = await readKeyFile(path);
  if (current === undefined) throw new KeyRingError(`${path} disappeared while adding a key version.`);
  const next = [...current, { id: nextKeyId(current, now), key: generateVaultKey(), createdAt: now }];
  await writeKeyFile(path, next, { exclusive: false });
  return next;
}

/** `v<n>-<yyyymmdd>`, n one more than the highest version so far. */
function nextKeyId(entries: readonly KeyRingEntry[], now: Date): string {
  const versions = entries.map((entry) => Number(/^v(\d+)-/.exec(entry.id)?.[1] ?? 0));
  const day = now.toISOString().slice(0, 10).replaceAll('-', '');
  let version = Math.max(0, ...versions) + 1;
  while (entries.some((entry) => entry.id === `v${version}-${day}`)) version++;
  return `v${version}-${day}`;
}

async function readKeyFile(path: string): Promise<KeyRingEntry[] | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new KeyRingError(
      `${path} is not valid JSON. Restore it from a backup: without it, stored keys cannot be decrypted.`,
    );
  }
  const parsed = KeyFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new KeyRingError(
      `${path} is malformed at "${issue?.path.join('.') ?? ''}": ${issue?.message ?? 'invalid'}.`,
    );
  }
  return parsed.data.keys.map((entry, index) => {
    const key = decodeVaultKey(entry.key);
    if (key === undefined)
      throw new KeyRingError(`${path}: keys.${index}.key ("${entry.id}") is not 32 bytes of base64.`);
    return { id: entry.id, key, createdAt: new Date(entry.createdAt) };
  });
}

/** Writes the file atomically with mode 0600; `exclusive` fails (returns false) if it exists. */
async function writeKeyFile(
  path: string,
  entries: readonly KeyRingEntry[],
  options: { readonly exclusive: boolean },
): Promise<boolean> {
  const body = `${JSON.stringify(
    {
      version: 1,
      keys: entries.map((entry) => ({
        id: entry.id,
        key: Buffer.from(entry.key).toString('base64'),
        createdAt: entry.createdAt!.toISOString(),
      })),
    },
    null,
    2,
  )}\n`;
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.chmod(0o600);
    await handle.writeFile(body, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    if (options.exclusive) {
      // A hard link creates the name atomically, complete, and fails if another process made it first.
      try {
        await link(temporary, path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw error;
      }
    } else {
      await rename(temporary, path);
    }
  } finally {
    await rm(temporary, { force: true });
  }
  await syncDirectory(path);
  return true;
}

async function syncDirectory(path: string): Promise<void> {
  try {
    const dir = await open(join(path, '..'), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    // Some platforms cannot fsync a directory; the rename itself is still atomic.
  }
}

async function tightenPermissions(path: string): Promise<string[]> {
  if (process.platform === 'win32') return [];
  const mode = (await stat(path)).mode & 0o777;
  if ((mode & 0o077) === 0) return [];
  await chmod(path, 0o600);
  return [`${path} was readable by other users (mode ${mode.toString(8)}); its mode is now 600.`];
}

import { createProviderRegistry, type ProviderRegistry } from '@vidgenie/nodes';
import type { Kysely } from 'kysely';
import type { ServerConfig } from '../config/server-config.ts';
import type { DB } from '../db/schema.ts';
import type { KeyRing, KeyRingKey } from './key-ring.ts';
import { createProviderKeyVault } from './provider-key-vault.ts';
import { resolveKeyRing } from './resolve-key-ring.ts';
import type { RewrapReport } from './rewrap-provider-keys.ts';
import { rotateKeyFile } from './vault-key-file.ts';

/** What `vidgenie keys rotate` did. */
export interface RotateKeysReport {
  /** `env` (the ring is `VIDGENIE_ENCRYPTION_KEYS`: nothing was added) or `file` (a version was added). */
  readonly source: 'env' | 'file';
  readonly keyFile: string | undefined;
  /** The key version added to the key file (embedded mode). */
  readonly added: KeyRingKey | undefined;
  /** The ring after rotation. */
  readonly ring: KeyRing;
  readonly rewrap: RewrapReport;
}

/**
 * The work behind `vidgenie keys rotate`. With `VIDGENIE_ENCRYPTION_KEYS`, the ring is the
 * operator's (add the new key at the end of the variable on every server first): nothing is added,
 * every row is rewrapped to the last key. In embedded mode a new version is added to the key file,
 * then every row is rewrapped to it. Safe to run again after a kill: it resumes.
 *
 * @example
 * ```ts
 * import { formatRotateKeysReport, loadConfig, migrateToLatest, openDatabase, rotateKeys } from '@vidgenie/server';
 * const config = loadConfig({ VIDGENIE_DATA_DIR: './.vidgenie-example' });
 * const { db, close } = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
 * await migrateToLatest(db);
 * console.log(formatRotateKeysReport(await rotateKeys({ config, db })));
 * await close();
 * ```
 */
export async function rotateKeys(args: {
  readonly config: Pick<
    ServerConfig,
    | 'NODE_ENV'
    | 'DATABASE_URL'
    | 'VIDGENIE_ENCRYPTION_KEYS'
    | 'VIDGENIE_KEY_ROTATION_DAYS'
    | 'VIDGENIE_DATA_DIR'
  >;
  readonly db: Kysely<DB>;
  readonly providers?: ProviderRegistry;
  readonly now?: () => Date;
  readonly batchSize?: number;
  readonly signal?: AbortSignal;
}): Promise<RotateKeysReport> {
  const now = args.now ?? (() => new Date());
  const { config } = args;
  const embedded =
    config.VIDGENIE_ENCRYPTION_KEYS === undefined &&
    !(config.NODE_ENV === 'production' && config.DATABASE_URL !== undefined);
  let ring: KeyRing;
  let added: KeyRingKey | undefined;
  let keyFile: string | undefined;
  if (embedded) {
    const file = await rotateKeyFile(config.VIDGENIE_DATA_DIR, { now: now() });
    ({ ring, added } = file);
    keyFile = file.path;
  } else {
    // Parses the variable, or throws the start-up error when it is missing.
    ring = (await resolveKeyRing(config, { now: now() })).ring;
  }
  const vault = createProviderKeyVault({
    db: args.db,
    ring,
    providers: args.providers ?? createProviderRegistry([]),
    now,
  });
  const rewrap = await vault.rewrap({
    ...(args.batchSize === undefined ? {} : { batchSize: args.batchSize }),
    ...(args.signal === undefined ? {} : { signal: args.signal }),
  });
  return { source: embedded ? 'file' : 'env', keyFile, added, ring, rewrap };
}

/**
 * The report of {@link rotateKeys} as lines for a terminal.
 *
 * @example
 * ```ts
 * import { formatRotateKeysReport, type RotateKeysReport } from '@vidgenie/server';
 * declare const report: RotateKeysReport;
 * process.stdout.write(`${formatRotateKeysReport(report)}\n`);
 * ```
 */
export function formatRotateKeysReport(report: RotateKeysReport): string {
  const { rewrap } = report;
  const active = `"${rewrap.activeKeyId}"`;
  const lines = [
    report.source === 'env'
      ? `Keys from VIDGENIE_ENCRYPTION_KEYS; the active key is ${active} (the last entry).`
      : `Added key version ${active} to ${report.keyFile}.`,
    `Re-encrypted ${plural(rewrap.rewrapped, 'stored key')} to ${active} in ${plural(rewrap.batches, 'batch', 'batches')}.`,
  ];
  if (rewrap.skipped > 0)
    lines.push(`${plural(rewrap.skipped, 'key')} changed meanwhile and already use the new key.`);
  const remaining = Object.entries(rewrap.remainingByKeyId);
  if (!rewrap.complete) {
    lines.push('Stopped before the end: run "vidgenie keys rotate" again to finish.');
  } else if (remaining.length === 0) {
    lines.push(
      report.source === 'env'
        ? `Every stored key uses ${active}: older entries of VIDGENIE_ENCRYPTION_KEYS can now be removed.`
        : `Every stored key uses ${active}.`,
    );
  }
  if (remaining.length > 0) {
    const list = remaining.map(([keyId, rows]) => `${keyId}: ${rows}`).join(', ');
    lines.push(`Still on older keys (${list}).`);
  }
  if (rewrap.failed > 0) {
    lines.push(
      `${plural(rewrap.failed, 'stored key')} could not be decrypted (a key missing from the ring, or altered data): they were left as they are; keep their key in the ring, or ask those users to save their keys again.`,
    );
  }
  return lines.join('\n');
}

function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}

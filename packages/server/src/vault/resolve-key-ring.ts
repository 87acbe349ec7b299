import type { ServerConfig } from '../config/server-config.ts';
import { type KeyRing, KeyRingError, type KeyRingKey, parseKeyRing } from './key-ring.ts';
import { loadOrCreateKeyFile } from './vault-key-file.ts';

const DAY_MS = 86_400_000;

/** The vault's key ring for this server, and what the operator should know about it. */
export interface ResolvedKeyRing {
  readonly ring: KeyRing;
  /** `env` (`VIDGENIE_ENCRYPTION_KEYS`) or `file` (the embedded key file). */
  readonly source: 'env' | 'file';
  /** The key file's path, in embedded mode. */
  readonly keyFile: string | undefined;
  /** True when this start created the key file. */
  readonly created: boolean;
  /** The key version this start added to the key file because the active one was too old. */
  readonly added: KeyRingKey | undefined;
  /** The active key's age in whole days, when its creation time is known. */
  readonly activeKeyAgeDays: number | undefined;
  /** True when the active key is at least `VIDGENIE_KEY_ROTATION_DAYS` old. */
  readonly rotationDue: boolean;
  /** Lines to log at start-up (rotation due, tightened permissions, undated keys). */
  readonly warnings: readonly string[];
}

/**
 * Finds the vault's keys: `VIDGENIE_ENCRYPTION_KEYS` when set; otherwise the embedded key file in
 * `VIDGENIE_DATA_DIR` (created on first start, rotated when the active key passes
 * `VIDGENIE_KEY_ROTATION_DAYS`). In production with `DATABASE_URL` set (several machines share the
 * database, so a per-machine key file would split the ring) missing keys are a start-up error.
 * Throws {@link KeyRingError} with a message that says what to set.
 *
 * @example
 * ```ts
 * import { loadConfig, resolveKeyRing } from '@vidgenie/server';
 * const resolved = await resolveKeyRing(loadConfig({ VIDGENIE_DATA_DIR: './.vidgenie' }), { now: new Date() });
 * for (const warning of resolved.warnings) console.warn(warning);
 * ```
 */
export async function resolveKeyRing(
  config: Pick<
    ServerConfig,
    | 'NODE_ENV'
    | 'DATABASE_URL'
    | 'VIDGENIE_ENCRYPTION_KEYS'
    | 'VIDGENIE_KEY_ROTATION_DAYS'
    | 'VIDGENIE_DATA_DIR'
  >,
  options: { readonly now: Date },
): Promise<ResolvedKeyRing> {
  const rotationDays = config.VIDGENIE_KEY_ROTATION_DAYS;
  if (config.VIDGENIE_ENCRYPTION_KEYS !== undefined) {
    const ring = parseKeyRing(config.VIDGENIE_ENCRYPTION_KEYS);
    const age = ageInDays(ring.active, options.now);
    const warnings: string[] = [];
    if (age === undefined) {
      warnings.push(
        `The creation date of vault key "${ring.active.id}" is not set, so its age is counted from its first use: write its entry as id:base64:YYYY-MM-DD in VIDGENIE_ENCRYPTION_KEYS.`,
      );
    } else if (age >= rotationDays) {
      warnings.push(rotationWarning(ring.active.id, age, rotationDays));
    }
    return {
      ring,
      source: 'env',
      keyFile: undefined,
      created: false,
      added: undefined,
      activeKeyAgeDays: age,
      rotationDue: age !== undefined && age >= rotationDays,
      warnings,
    };
  }
  if (config.NODE_ENV === 'production' && config.DATABASE_URL !== undefined) {
    throw new KeyRingError(
      'VIDGENIE_ENCRYPTION_KEYS is not set. In production with DATABASE_URL, every server must share the vault keys: set VIDGENIE_ENCRYPTION_KEYS to "id:base64" entries (for example "k1:" followed by the output of "openssl rand -base64 32").',
    );
  }
  const file = await loadOrCreateKeyFile(config.VIDGENIE_DATA_DIR, { now: options.now, rotationDays });
  const age = ageInDays(file.ring.active, options.now);
  return {
    ring: file.ring,
    source: 'file',
    keyFile: file.path,
    created: file.created,
    added: file.added,
    activeKeyAgeDays: age,
    rotationDue: age !== undefined && age >= rotationDays,
    warnings: file.warnings,
  };
}

/** Whole days since a key was made, or undefined when unknown. @internal */
export function ageInDays(key: KeyRingKey, now: Date): number | undefined {
  return key.createdAt === undefined
    ? undefined
    : Math.max(0, Math.floor((now.getTime() - key.createdAt.getTime()) / DAY_MS));
}

/** The start-up warning for a configured key past its rotation period. @internal */
export function rotationWarning(keyId: string, ageDays: number, rotationDays: number): string {
  return `Vault key "${keyId}" is ${ageDays} days old (rotation period: ${rotationDays} days). Add a new key at the end of VIDGENIE_ENCRYPTION_KEYS on every server, restart them, then run "vidgenie keys rotate".`;
}

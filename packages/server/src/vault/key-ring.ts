import { randomBytes } from 'node:crypto';

/** Key ids: 1 to 32 characters among `a-z`, `0-9` and `-` (they are stored in every row and in the AAD). */
export const KEY_ID_PATTERN: RegExp = /^[a-z0-9-]{1,32}$/;

/** Vault keys are AES-256 keys: exactly 32 bytes. */
export const VAULT_KEY_BYTES = 32;

/** Where a key ring came from: `VIDGENIE_ENCRYPTION_KEYS`, the embedded key file, or code (tests). */
export type KeyRingSource = 'env' | 'file' | 'memory';

/** What a key ring tells about one of its keys. The key material itself is never a property. */
export interface KeyRingKey {
  readonly id: string;
  /** When the key was made, when known (the key file records it; env entries may carry a date). */
  readonly createdAt: Date | undefined;
}

/**
 * The vault's keys, by id: the newest (last) one encrypts, every one decrypts. The 32-byte keys are
 * held outside the object, so logging or serialising a ring shows ids and dates only.
 */
export interface KeyRing {
  readonly source: KeyRingSource;
  /** The key new values are sealed with: the last one. */
  readonly active: KeyRingKey;
  /** Every key, oldest first. */
  readonly keys: readonly KeyRingKey[];
  /** The key with this id, or undefined. */
  find(id: string): KeyRingKey | undefined;
}

/** One key given to {@link createKeyRing}. */
export interface KeyRingEntry {
  readonly id: string;
  /** Exactly {@link VAULT_KEY_BYTES} bytes; copied. */
  readonly key: Uint8Array;
  readonly createdAt?: Date | undefined;
}

/**
 * A key ring, an env entry or the key file is malformed or missing. The message names the bad
 * entry (by position, and by id when the id itself is well formed) and never echoes key material.
 */
export class KeyRingError extends Error {
  override readonly name = 'KeyRingError';
}

const material = new WeakMap<KeyRing, ReadonlyMap<string, Buffer>>();

/**
 * Makes a key ring from keys given oldest first; the last one becomes the active key. Throws
 * {@link KeyRingError} for an empty list, a malformed or repeated id, or a key that is not 32 bytes.
 *
 * @example
 * ```ts
 * import { createKeyRing, generateVaultKey } from '@vidgenie/server';
 * const ring = createKeyRing([{ id: 'k1', key: generateVaultKey() }]);
 * console.log(ring.active.id); // k1
 * ```
 */
export function createKeyRing(
  entries: readonly KeyRingEntry[],
  options: { readonly source?: KeyRingSource } = {},
): KeyRing {
  if (entries.length === 0) throw new KeyRingError('A key ring needs at least one key.');
  const keys = new Map<string, Buffer>();
  const metadata: KeyRingKey[] = [];
  entries.forEach((entry, index) => {
    if (!KEY_ID_PATTERN.test(entry.id)) {
      throw new KeyRingError(`Key ${index + 1}: the id must be 1 to 32 characters among a-z, 0-9 and "-".`);
    }
    if (keys.has(entry.id)) throw new KeyRingError(`Key ${index + 1} ("${entry.id}"): the id is used twice.`);
    if (entry.key.byteLength !== VAULT_KEY_BYTES) {
      throw new KeyRingError(
        `Key ${index + 1} ("${entry.id}"): the key must be ${VAULT_KEY_BYTES} bytes (got ${entry.key.byteLength}).`,
      );
    }
    keys.set(entry.id, Buffer.from(entry.key));
    metadata.push(Object.freeze({ id: entry.id, createdAt: entry.createdAt }));
  });
  const ring: KeyRing = Object.freeze({
    source: options.source ?? 'memory',
    active: metadata.at(-1)!,
    keys: Object.freeze(metadata),
    find: (id: string) => metadata.find((key) => key.id === id),
  });
  material.set(ring, keys);
  return ring;
}

/**
 * The 32 bytes of one key of a ring, for the sealing code only.
 * @internal
 */
export function keyMaterial(ring: KeyRing, id: string): Buffer | undefined {
  return material.get(ring)?.get(id);
}

/**
 * The key entries of a ring (material included), to write the key file or extend a ring.
 * @internal
 */
export function keyRingEntries(ring: KeyRing): KeyRingEntry[] {
  return ring.keys.map((key) => ({ id: key.id, key: keyMaterial(ring, key.id)!, createdAt: key.createdAt }));
}

/**
 * 32 random bytes from the operating system's CSPRNG: a new vault key.
 *
 * @example
 * ```ts
 * import { generateVaultKey } from '@vidgenie/server';
 * console.log(`k2:${generateVaultKey().toString('base64')}`); // an entry for VIDGENIE_ENCRYPTION_KEYS
 * ```
 */
export function generateVaultKey(): Buffer {
  return randomBytes(VAULT_KEY_BYTES);
}

const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;
const DATE = /^\d{4}-\d{2}-\d{2}(T[\d:.]+Z)?$/;

/**
 * Decodes a base64 (or base64url) 32-byte key; undefined when it is not one.
 * @internal
 */
export function decodeVaultKey(text: string): Buffer | undefined {
  if (!BASE64.test(text)) return undefined;
  const key = Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
  return key.byteLength === VAULT_KEY_BYTES ? key : undefined;
}

/**
 * Parses `VIDGENIE_ENCRYPTION_KEYS`: comma-separated `id:base64` entries, each key exactly 32 bytes
 * (`openssl rand -base64 32`), ids of 1 to 32 characters among `a-z`, `0-9` and `-`, the **last**
 * entry active. An entry may end with its creation date, `id:base64:YYYY-MM-DD`, so the server can
 * tell the key's age. Throws {@link KeyRingError} naming the bad entry, never its key.
 *
 * @example
 * ```ts
 * import { parseKeyRing } from '@vidgenie/server';
 * const ring = parseKeyRing(
 *   'k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,k2:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=:2025-06-01',
 * );
 * console.log(ring.active.id, ring.keys.length); // k2 2
 * ```
 */
export function parseKeyRing(value: string, options: { readonly variable?: string } = {}): KeyRing {
  const variable = options.variable ?? 'VIDGENIE_ENCRYPTION_KEYS';
  const fail = (message: string): never => {
    throw new KeyRingError(`${variable}: ${message} Expected "id:base64" entries separated by commas.`);
  };
  if (value.trim() === '') fail('no key is set.');
  const seen = new Map<string, number>();
  const entries = value.split(',').map((raw, index): KeyRingEntry => {
    const position = index + 1;
    const entry = raw.trim();
    if (entry === '') fail(`entry ${position} is empty (an extra comma?).`);
    const parts = entry.split(':');
    if (parts.length < 2 || parts.length > 3) fail(`entry ${position} is not of the form "id:base64".`);
    const [id = '', encoded = '', date] = parts;
    if (!KEY_ID_PATTERN.test(id)) {
      fail(`entry ${position}: the id must be 1 to 32 characters among a-z, 0-9 and "-".`);
    }
    const name = `entry ${position} ("${id}")`;
    const previous = seen.get(id);
    if (previous !== undefined) fail(`${name}: the id is already used by entry ${previous}.`);
    seen.set(id, position);
    const key = decodeVaultKey(encoded);
    if (key === undefined) {
      fail(
        `${name}: the key must be ${VAULT_KEY_BYTES} bytes in base64 (generate one with "openssl rand -base64 32").`,
      );
    }
    let createdAt: Date | undefined;
    if (date !== undefined) {
      createdAt = new Date(date);
      if (!DATE.test(date) || Number.isNaN(createdAt.getTime())) {
        fail(`${name}: the creation date must be YYYY-MM-DD.`);
      }
    }
    return { id, key: key!, createdAt };
  });
  return createKeyRing(entries, { source: 'env' });
}

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { type KeyRing, keyMaterial } from './key-ring.ts';

/** The first byte of every sealed value: the format below. Bump it (and keep a reader) on any change. */
export const SEALED_FORMAT_VERSION = 1;
const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + IV_BYTES + TAG_BYTES;

/**
 * A sealed value could not be opened: wrong key, wrong AAD, unknown key id, an unknown format or
 * any altered byte. One class and one message for every cause, on purpose: telling causes apart
 * would hand an attacker an oracle.
 */
export class UnsealError extends Error {
  override readonly name = 'UnsealError';
  constructor() {
    super('The sealed value could not be opened.');
  }
}

/** A value sealed by {@link seal}. */
export interface SealedValue {
  /** The ring key that sealed it (store it beside the bytes; it is bound into the AAD). */
  readonly keyId: string;
  /** `version(1) | iv(12) | tag(16) | ciphertext`. */
  readonly sealed: Buffer;
}

/**
 * Encrypts with AES-256-GCM under the ring's active key: a fresh random 12-byte IV per call, a
 * 16-byte tag, and additional authenticated data computed for the key id used (`aad(keyId)`), so
 * the value only opens in the same context. Returns the key id and
 * `version(1) | iv(12) | tag(16) | ciphertext`.
 *
 * @example
 * ```ts
 * import { createKeyRing, generateVaultKey, providerKeyAad, seal, unseal } from '@vidgenie/server';
 * const ring = createKeyRing([{ id: 'k1', key: generateVaultKey() }]);
 * const context = { userId: 'usr_1', providerId: 'openai' };
 * const { keyId, sealed } = seal({ ring, plaintext: 'sk-…', aad: (id) => providerKeyAad({ ...context, keyId: id }) });
 * const opened = unseal({ ring, keyId, sealed, aad: providerKeyAad({ ...context, keyId }) });
 * console.log(opened.toString('utf8')); // sk-…
 * ```
 */
export function seal(args: {
  readonly ring: KeyRing;
  readonly plaintext: string | Uint8Array;
  readonly aad: (keyId: string) => Uint8Array;
}): SealedValue {
  const keyId = args.ring.active.id;
  const key = keyMaterial(args.ring, keyId);
  if (key === undefined) throw new TypeError('The key ring has no material for its active key.');
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(args.aad(keyId));
  const plaintext = typeof args.plaintext === 'string' ? Buffer.from(args.plaintext, 'utf8') : args.plaintext;
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  if (typeof args.plaintext === 'string') (plaintext as Buffer).fill(0);
  const sealed = Buffer.concat([Buffer.of(SEALED_FORMAT_VERSION), iv, cipher.getAuthTag(), ciphertext]);
  return { keyId, sealed };
}

/**
 * Decrypts a value made by {@link seal} with the ring key it names and the same AAD. Any failure
 * (unknown key id or format, altered byte, other AAD) throws {@link UnsealError}, with no detail.
 *
 * @example
 * ```ts
 * import { createKeyRing, generateVaultKey, providerKeyAad, seal, unseal, UnsealError } from '@vidgenie/server';
 * const ring = createKeyRing([{ id: 'k1', key: generateVaultKey() }]);
 * const { keyId, sealed } = seal({ ring, plaintext: 'sk-…', aad: (id) => providerKeyAad({ userId: 'usr_1', providerId: 'openai', keyId: id }) });
 * try {
 *   unseal({ ring, keyId, sealed, aad: providerKeyAad({ userId: 'usr_2', providerId: 'openai', keyId }) });
 * } catch (error) {
 *   console.log(error instanceof UnsealError); // true: another user's context
 * }
 * ```
 */
export function unseal(args: {
  readonly ring: KeyRing;
  readonly keyId: string;
  readonly sealed: Uint8Array;
  readonly aad: Uint8Array;
}): Buffer {
  const key = keyMaterial(args.ring, args.keyId);
  const sealed = Buffer.from(args.sealed.buffer, args.sealed.byteOffset, args.sealed.byteLength);
  if (key === undefined || sealed.byteLength < HEADER_BYTES || sealed[0] !== SEALED_FORMAT_VERSION) {
    throw new UnsealError();
  }
  try {
    const decipher = createDecipheriv(ALGORITHM, key, sealed.subarray(1, 1 + IV_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(args.aad);
    decipher.setAuthTag(sealed.subarray(1 + IV_BYTES, HEADER_BYTES));
    return Buffer.concat([decipher.update(sealed.subarray(HEADER_BYTES)), decipher.final()]);
  } catch {
    throw new UnsealError();
  }
}

import { randomFillSync } from 'node:crypto';

/** Random bytes drawn from the CSPRNG at once, handed out 16 at a time. */
const POOL_BYTES = 4096;
const ID_BYTES = 16;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;

/**
 * A new random id with a readable prefix (`usr_…`, `key_…`, `hold_…`): 128 random bits in base64url.
 *
 * The bits come from Node's CSPRNG, drawn 4 KiB at a time (a run makes a few dozen ids, and one
 * `randomBytes` call per id cost more than the rest of the id's work). Each byte is used once.
 * Ids name rows and are not secrets: tokens come from `newSecretToken`, never from here.
 *
 * @example
 * ```ts
 * import { newId } from '@vidgenie/server';
 * const id = newId('usr'); // "usr_3q2-7wXk…"
 * ```
 */
export function newId(prefix: string): string {
  if (offset + ID_BYTES > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const id = `${prefix}_${pool.toString('base64url', offset, offset + ID_BYTES)}`;
  offset += ID_BYTES;
  return id;
}

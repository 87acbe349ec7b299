import { randomBytes } from 'node:crypto';

/**
 * A new random id with a readable prefix (`usr_…`, `key_…`, `hold_…`): 128 random bits in base64url.
 *
 * @example
 * ```ts
 * import { newId } from '@vidgenie/server';
 * const id = newId('usr'); // "usr_3q2-7wXk…"
 * ```
 */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString('base64url')}`;
}

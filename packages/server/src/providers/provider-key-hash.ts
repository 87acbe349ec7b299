import { createHash } from 'node:crypto';

/** Separates this hash from any other SHA-256 of a key (a version bump starts afresh). */
const DOMAIN = 'vidgenie/provider-key-limits/v1';

/**
 * The name under which provider key limits know a (provider id, key) pair: a SHA-256, in lowercase
 * hex, of a domain tag, the provider id and the key. The key itself is never stored, logged or put
 * in an error; provider keys are long random strings, so the hash does not reveal them.
 *
 * @example
 * ```ts
 * import { providerKeyHash } from '@vidgenie/server';
 * providerKeyHash('openai-text', 'sk-example').length; // 64
 * ```
 */
export function providerKeyHash(providerId: string, apiKey: string): string {
  return createHash('sha256')
    .update(DOMAIN)
    .update('\0')
    .update(providerId)
    .update('\0')
    .update(apiKey)
    .digest('hex');
}

/** The first element of every provider key's AAD: names the purpose and its version. */
export const PROVIDER_KEY_AAD_DOMAIN = 'vidgenie.provider-key.v1';

/**
 * The additional authenticated data that binds a sealed provider key to its row: the domain, the
 * user id, the provider id (the key name, e.g. `openai`) and the ring key id. It is a JSON array,
 * so each part is delimited and escaped: no choice of ids can make two contexts encode alike. A
 * ciphertext moved to another user, provider or key id then fails to open.
 *
 * @example
 * ```ts
 * import { providerKeyAad } from '@vidgenie/server';
 * providerKeyAad({ userId: 'usr_1', providerId: 'openai', keyId: 'k1' }).toString();
 * // ["vidgenie.provider-key.v1","usr_1","openai","k1"]
 * ```
 */
export function providerKeyAad(context: {
  readonly userId: string;
  readonly providerId: string;
  readonly keyId: string;
}): Buffer {
  return Buffer.from(
    JSON.stringify([PROVIDER_KEY_AAD_DOMAIN, context.userId, context.providerId, context.keyId]),
    'utf8',
  );
}

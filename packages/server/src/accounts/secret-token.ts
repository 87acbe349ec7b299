import { createHash, randomBytes } from 'node:crypto';

/** A new bearer secret: 256 random bits, base64url, with a readable prefix. @internal */
export function newSecretToken(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

/** SHA-256 of a token (hex): what the database stores instead of the token. @internal */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

import {
  type Provider,
  ProviderRateLimitedError,
  ProviderRejectedError,
  ProviderUnavailableError,
  scrubSecret,
} from '@vidgenie/nodes';
import type { KeyStatus } from '../db/schema.ts';

/** The outcome of checking a key with its provider: a status and a sentence for Settings. */
export interface ProviderKeyCheck {
  readonly status: KeyStatus;
  readonly reason: string;
}

const MAX_REASON_LENGTH = 500;

/**
 * Checks a key with the first of `providers` that has `validateKey`, within `timeoutMs`:
 *
 * - the provider accepted it → `valid`;
 * - the provider refused it (`{ valid: false }`, a rejected key, no quota) → `invalid` with its reason;
 * - the provider could not be asked (no `validateKey`, unreachable, rate limited, 5xx, too slow) →
 *   `unchecked` with a reason: we do not know, and say so.
 *
 * Reasons never contain the key (scrubbed, then clipped). If the caller's `signal` aborts, the
 * check rejects with its reason: nobody is waiting for the answer.
 * @internal
 */
export async function checkProviderKey(args: {
  readonly providers: readonly Provider[];
  readonly label: string;
  readonly key: string;
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
}): Promise<ProviderKeyCheck> {
  const { key, label } = args;
  const provider = args.providers.find((p) => p.validateKey !== undefined);
  if (provider?.validateKey === undefined) {
    return {
      status: 'unchecked',
      reason: `This ${label} cannot be checked in advance: it is used as entered.`,
    };
  }
  const name = provider.displayName;
  const timeout = AbortSignal.timeout(args.timeoutMs);
  const clean = (text: string) => clip(scrubSecret(text, key));
  try {
    const result = await provider.validateKey(key, { signal: AbortSignal.any([args.signal, timeout]) });
    if (result.valid) return { status: 'valid', reason: `${name} accepted this key.` };
    return { status: 'invalid', reason: clean(result.reason) };
  } catch (error) {
    if (args.signal.aborted) throw args.signal.reason ?? error;
    if (timeout.aborted) {
      return {
        status: 'unchecked',
        reason: `${name} did not answer within ${Math.ceil(args.timeoutMs / 1000)} s, so the key could not be checked: try again later.`,
      };
    }
    if (error instanceof ProviderRejectedError) {
      if (error.failure === 'invalid_key' || error.failure === 'quota_exhausted') {
        return { status: 'invalid', reason: clean(error.message) };
      }
      return { status: 'unchecked', reason: clean(`${name} refused the check: ${error.message}`) };
    }
    if (error instanceof ProviderRateLimitedError || error instanceof ProviderUnavailableError) {
      return {
        status: 'unchecked',
        reason: clean(`${error.message} The key could not be checked: try again later.`),
      };
    }
    // Unknown errors may carry anything (URLs, headers): keep their text out of the reason.
    return { status: 'unchecked', reason: `Could not reach ${name} to check the key: try again later.` };
  }
}

function clip(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are removed on purpose.
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return flat.length <= MAX_REASON_LENGTH ? flat : `${flat.slice(0, MAX_REASON_LENGTH - 1)}…`;
}

import { ApiError } from '../errors/api-error.ts';

/** The longest key accepted, in characters (after trimming). */
export const MAX_PROVIDER_KEY_LENGTH = 512;
/** Keys shorter than this show no last characters: four of them would give too much away. */
const MIN_LENGTH_TO_SHOW_LAST_FOUR = 12;
/** Whitespace, control and invisible format characters (zero-width spaces from a copy, BOMs…). */
const FORBIDDEN_CHARACTERS = /[\s\p{Cc}\p{Cf}]/u;

/**
 * A key as typed, trimmed and checked: not empty, at most {@link MAX_PROVIDER_KEY_LENGTH}
 * characters, no whitespace or control characters inside (no provider issues such keys, and they
 * would break the `Authorization` header). Throws a 400 `VALIDATION_FAILED` that never echoes it.
 * @internal
 */
export function normalizeProviderKey(raw: string, label: string): string {
  const key = raw.trim();
  const problem =
    key === ''
      ? `Enter your ${label}.`
      : [...key].length > MAX_PROVIDER_KEY_LENGTH
        ? `This ${label} is too long: keys are at most ${MAX_PROVIDER_KEY_LENGTH} characters.`
        : FORBIDDEN_CHARACTERS.test(key)
          ? `This ${label} contains spaces or invisible characters: paste it again without them.`
          : undefined;
  if (problem !== undefined) {
    throw new ApiError('VALIDATION_FAILED', problem, {
      details: { issues: [{ path: 'key', message: problem }] },
    });
  }
  return key;
}

/**
 * The last four characters shown in Settings; empty for keys shorter than 12 characters, where
 * four would be a third of the secret.
 * @internal
 */
export function lastFourOf(key: string): string {
  const characters = [...key];
  return characters.length < MIN_LENGTH_TO_SHOW_LAST_FOUR ? '' : characters.slice(-4).join('');
}

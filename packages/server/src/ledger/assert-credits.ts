import { ApiError } from '../errors/api-error.ts';

/** Credits are whole numbers; the columns are 32-bit integers. */
const MAX_CREDITS = 1_000_000_000;

/**
 * Checks that `value` is a whole number of credits, at least `min` and at most one billion;
 * throws a 400 `VALIDATION_FAILED` naming the argument otherwise.
 * @internal
 */
export function assertCredits(name: string, value: number, min: 0 | 1): void {
  if (!Number.isSafeInteger(value) || value < min || value > MAX_CREDITS) {
    throw new ApiError(
      'VALIDATION_FAILED',
      `"${name}" must be a whole number of credits from ${min} to ${MAX_CREDITS}.`,
      { details: { issues: [{ path: name, message: `must be an integer from ${min} to ${MAX_CREDITS}` }] } },
    );
  }
}

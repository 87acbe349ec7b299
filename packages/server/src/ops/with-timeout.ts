/** Thrown by {@link withTimeout} when the promise did not settle in time. */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/**
 * The promise's outcome, or a {@link TimeoutError} after `ms` milliseconds (the promise itself
 * goes on; its late outcome is ignored).
 * @internal
 */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  promise.catch(() => {}); // a late rejection is not unhandled
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

import {
  createProviderRegistry,
  type ImageProvider,
  type Provider,
  type ProviderCallContext,
  type ProviderKind,
  ProviderRateLimitedError,
  type ProviderRegistry,
  type TextProvider,
  type VideoProvider,
} from '@vidgenie/nodes';
import { createFifoSemaphore, type FifoSemaphore } from './fifo-semaphore.ts';
import { DEFAULT_KEY_BACKOFF_POLICY, type KeyBackoffPolicy, keyBackoffDelay } from './key-backoff-delay.ts';
import type { KeyBackoffStore } from './key-backoff-store.ts';
import { createMemoryKeyBackoffStore } from './memory-key-backoff-store.ts';
import { providerKeyHash } from './provider-key-hash.ts';

/**
 * Calls at once per (provider, key), by provider kind: text and image calls are one request each;
 * for video, only the submission of a job counts (see {@link limitProviderKeys}).
 */
export const DEFAULT_PROVIDER_KEY_CONCURRENCY: Readonly<Record<ProviderKind, number>> = Object.freeze({
  text: 8,
  image: 4,
  video: 4,
});

/** Calls at once per (provider, key): per provider id, else per kind, else the defaults. */
export interface ProviderKeyConcurrency {
  readonly byKind?: Readonly<Partial<Record<ProviderKind, number>>>;
  /** Per provider id; wins over its kind. */
  readonly byProvider?: Readonly<Record<string, number>>;
}

/** Where provider key limits report back-offs and store failures (pino's logger fits). */
export interface ProviderKeyLimitsLog {
  warn(details: Record<string, unknown>, message: string): void;
}

/** Options of {@link limitProviderKeys}. */
export interface ProviderKeyLimitsOptions {
  /** Where the back-off lives. Default: in this process's memory. */
  readonly store?: KeyBackoffStore;
  /** Calls at once per (provider, key); whole numbers of at least 1, or `Infinity`. */
  readonly concurrency?: ProviderKeyConcurrency;
  /** How back-offs grow (merged over {@link DEFAULT_KEY_BACKOFF_POLICY}). */
  readonly backoff?: Partial<KeyBackoffPolicy>;
  readonly log?: ProviderKeyLimitsLog;
  /** Random numbers in [0, 1) for jitter. Default `Math.random`. */
  readonly random?: () => number;
}

/** Store failures are logged at most this often: a database outage must not flood the log. */
const STORE_WARNING_INTERVAL_MS = 60_000;

/**
 * Wraps every hosted provider of a registry so that the calls made with one key (many runs of one
 * user, on one machine or, with a shared store, on several) share its limits. Local providers, and
 * calls without a key, are untouched; so are `validateKey`, `price` and the rest.
 *
 * - **Concurrency.** At most N calls per (provider id, key) at once
 *   ({@link DEFAULT_PROVIDER_KEY_CONCURRENCY}, or `concurrency`), per process. Waiters are served
 *   first come, first served; a call whose signal aborts (a cancelled run) stops waiting at once
 *   and rejects with the signal's reason. For video, a call holds its slot only until the job is
 *   submitted (the provider stores its job id in the durable state), not while it polls for
 *   minutes; a resumed call that already has a job (its state is set) takes no slot, so polls are
 *   never starved by new submissions. Providers that chain clips internally submit later clips
 *   without a slot.
 * - **Shared back-off.** When a call meets a 429 (`ProviderRateLimitedError`) the key backs off:
 *   every call with it, here or (with the SQL store) on other machines, waits until the back-off
 *   ends before reaching the provider. The failing call still throws, so the engine's retry
 *   applies (and its retry waits like any other call). Consecutive 429s grow the back-off
 *   ({@link keyBackoffDelay}: Retry-After at least, capped, with jitter); a success after the
 *   back-off ended resets it.
 *
 * Keys are known only by {@link providerKeyHash}; the key itself is never stored, logged or put in an
 * error. If the store fails, calls go ahead (a warning is logged): limits never stop runs.
 *
 * @example
 * ```ts
 * import { createProviderRegistry, localProviders } from '@vidgenie/nodes';
 * import { limitProviderKeys } from '@vidgenie/server';
 * const providers = limitProviderKeys(createProviderRegistry(localProviders()), {
 *   concurrency: { byKind: { image: 2 } },
 * });
 * console.log(providers.list().length);
 * ```
 */
export function limitProviderKeys(
  registry: ProviderRegistry,
  options: ProviderKeyLimitsOptions = {},
): ProviderRegistry {
  const store = options.store ?? createMemoryKeyBackoffStore();
  const policy: KeyBackoffPolicy = { ...DEFAULT_KEY_BACKOFF_POLICY, ...options.backoff };
  const random = options.random ?? Math.random;
  const { log } = options;
  const limitOf = concurrencyResolver(options.concurrency ?? {});
  const semaphores = new Map<string, FifoSemaphore>();
  let lastStoreWarning = Number.NEGATIVE_INFINITY;

  const warnStore = (error: unknown, step: string) => {
    const at = Date.now();
    if (at - lastStoreWarning < STORE_WARNING_INTERVAL_MS) return;
    lastStoreWarning = at;
    log?.warn(
      { err: error instanceof Error ? { name: error.name, message: error.message } : String(error), step },
      'provider key back-off store failed; calls go ahead without it',
    );
  };

  const slotFor = (provider: Provider, keyHash: string, signal: AbortSignal) => {
    const limit = limitOf(provider);
    if (limit === Number.POSITIVE_INFINITY) return Promise.resolve(noop);
    let semaphore = semaphores.get(keyHash);
    if (semaphore === undefined) {
      semaphore = createFifoSemaphore(limit, () => semaphores.delete(keyHash));
      semaphores.set(keyHash, semaphore);
    }
    return semaphore.acquire(signal);
  };

  const waitOutBackoff = async (keyHash: string, signal: AbortSignal) => {
    for (;;) {
      signal.throwIfAborted();
      let waitMs: number;
      try {
        waitMs = (await store.read(keyHash)).waitMs;
      } catch (error) {
        warnStore(error, 'read');
        return;
      }
      if (waitMs <= 0) return;
      // Read again afterwards: another 429 (here or elsewhere) may have lengthened it.
      await sleep(waitMs, signal);
    }
  };

  const strike = async (provider: Provider, keyHash: string, retryAfterMs: number) => {
    try {
      const state = await store.strike(keyHash, (strikes) =>
        keyBackoffDelay({ policy, strikes, retryAfterMs, random: random() }),
      );
      log?.warn(
        {
          providerId: provider.id,
          keyHash: keyHash.slice(0, 12),
          strikes: state.strikes,
          backoffMs: state.waitMs,
        },
        'provider key rate-limited: calls with it wait for the back-off',
      );
    } catch (error) {
      warnStore(error, 'strike');
    }
  };

  /** Runs one call under the key's limits; `call` gets the function that frees its slot early. */
  const limited = async <T>(
    provider: Provider,
    ctx: ProviderCallContext<unknown>,
    takesSlot: boolean,
    call: (releaseSlot: () => void) => Promise<T>,
  ): Promise<T> => {
    const apiKey = ctx.apiKey;
    if (apiKey === undefined || apiKey === '') return call(noop);
    const keyHash = providerKeyHash(provider.id, apiKey);
    const release = takesSlot ? await slotFor(provider, keyHash, ctx.signal) : noop;
    let result: T;
    try {
      await waitOutBackoff(keyHash, ctx.signal);
      result = await call(release);
    } catch (error) {
      // Recorded before the slot is freed, so the next caller in line sees the back-off.
      if (error instanceof ProviderRateLimitedError) await strike(provider, keyHash, error.afterMs);
      release();
      throw error;
    }
    release();
    await store.clear(keyHash).catch((error: unknown) => warnStore(error, 'clear'));
    return result;
  };

  const wrap = (provider: Provider): Provider => {
    if (provider.local) return provider;
    switch (provider.kind) {
      case 'text': {
        const generate: TextProvider['generate'] = (request, ctx) =>
          limited(provider, ctx, true, () => provider.generate(request, ctx));
        return Object.freeze({ ...provider, generate });
      }
      case 'image': {
        const generate: ImageProvider['generate'] = (request, ctx) =>
          limited(provider, ctx, true, () => provider.generate(request, ctx));
        return Object.freeze({ ...provider, generate });
      }
      case 'video': {
        const generate: VideoProvider['generate'] = (request, ctx) =>
          // A call that already has a job (a resumed run) only polls it: no slot.
          limited(provider, ctx, request.state.get() === undefined, (releaseSlot) =>
            provider.generate(
              {
                ...request,
                state: {
                  get: () => request.state.get(),
                  // The job is submitted and its id is being stored: polling needs no slot.
                  set: (value) => {
                    releaseSlot();
                    return request.state.set(value);
                  },
                },
              },
              ctx,
            ),
          );
        return Object.freeze({ ...provider, generate });
      }
    }
  };

  return createProviderRegistry(registry.list().map(wrap));
}

function noop(): void {}

/** The concurrency of a provider's keys, checked once for every value given. */
function concurrencyResolver(concurrency: ProviderKeyConcurrency): (provider: Provider) => number {
  for (const [name, value] of [
    ...Object.entries(concurrency.byKind ?? {}),
    ...Object.entries(concurrency.byProvider ?? {}),
  ]) {
    if (!(value === Number.POSITIVE_INFINITY || (Number.isInteger(value) && value >= 1))) {
      throw new RangeError(`Provider key concurrency for "${name}" must be a whole number of at least 1.`);
    }
  }
  return (provider) =>
    concurrency.byProvider?.[provider.id] ??
    concurrency.byKind?.[provider.kind] ??
    DEFAULT_PROVIDER_KEY_CONCURRENCY[provider.kind];
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

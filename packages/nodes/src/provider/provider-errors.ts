import { EngineError, NonRetryableError, RetryAfterError } from '@vidgenie/engine';

/** Why a provider call failed, in terms a creator can act on. */
export type ProviderFailure =
  /** The key was refused (401/403): not retried. */
  | 'invalid_key'
  /** The account's quota or credit is exhausted: not retried. */
  | 'quota_exhausted'
  /** Too many requests (429): retried after the provider's delay. */
  | 'rate_limited'
  /** The provider's safety system refused the prompt or image: not retried. */
  | 'content_rejected'
  /** The request can never succeed as sent (other 4xx): not retried. */
  | 'bad_request'
  /** 5xx or a network failure: retried, then failed. */
  | 'unavailable'
  /** The provider did not answer in time: retried, then failed. */
  | 'timeout'
  /** The provider answered something we cannot read: retried, then failed. */
  | 'malformed_response';

/** Who failed: the provider's id and the names people know it by. */
export interface ProviderIdentity {
  readonly id: string;
  readonly displayName: string;
  /** The key's label in Settings, e.g. "OpenAI key". */
  readonly keyLabel?: string;
}

/** Arguments of {@link providerError}. */
export interface ProviderErrorArgs {
  readonly provider: ProviderIdentity;
  readonly failure: ProviderFailure;
  /** The provider's own reason (for rejections), already free of secrets. */
  readonly reason?: string;
  /** For `rate_limited`: the provider's Retry-After, in ms. */
  readonly retryAfterMs?: number;
  readonly cause?: unknown;
}

interface ProviderErrorFields {
  /** Why the call failed. */
  readonly failure: ProviderFailure;
  /** The provider's id. */
  readonly providerId: string;
}

/** A provider failure that retrying cannot fix. */
export class ProviderRejectedError extends NonRetryableError implements ProviderErrorFields {
  override readonly name: string = 'ProviderRejectedError';
  readonly failure: ProviderFailure;
  readonly providerId: string;
  constructor(message: string, fields: ProviderErrorFields & { readonly cause?: unknown }) {
    super(message, fields.cause === undefined ? {} : { cause: fields.cause });
    this.failure = fields.failure;
    this.providerId = fields.providerId;
  }
  override details(): Readonly<Record<string, unknown>> {
    return { failure: this.failure, providerId: this.providerId };
  }
}

/** A provider asked us to slow down; the engine retries after `afterMs`. */
export class ProviderRateLimitedError extends RetryAfterError implements ProviderErrorFields {
  override readonly name: string = 'ProviderRateLimitedError';
  readonly failure: ProviderFailure = 'rate_limited';
  readonly providerId: string;
  constructor(
    message: string,
    fields: { readonly providerId: string; readonly afterMs: number; readonly cause?: unknown },
  ) {
    super(message, {
      afterMs: fields.afterMs,
      ...(fields.cause === undefined ? {} : { cause: fields.cause }),
    });
    this.providerId = fields.providerId;
  }
  override details(): Readonly<Record<string, unknown>> {
    return { afterMs: this.afterMs, failure: this.failure, providerId: this.providerId };
  }
}

/** A transient provider failure (5xx, timeout, unreadable answer); the engine retries it. */
export class ProviderUnavailableError extends EngineError implements ProviderErrorFields {
  override readonly name: string = 'ProviderUnavailableError';
  readonly failure: ProviderFailure;
  readonly providerId: string;
  constructor(message: string, fields: ProviderErrorFields & { readonly cause?: unknown }) {
    super('NODE_FAILED', message, {
      retryable: true,
      ...(fields.cause === undefined ? {} : { cause: fields.cause }),
    });
    this.failure = fields.failure;
    this.providerId = fields.providerId;
  }
  override details(): Readonly<Record<string, unknown>> {
    return { failure: this.failure, providerId: this.providerId };
  }
}

/** When a provider gives no Retry-After, wait this long before retrying a 429. */
export const DEFAULT_RATE_LIMIT_DELAY_MS = 10_000;

/**
 * Turns a provider failure into the engine error that steers retries, with a message a creator
 * can act on. Provider adapters map their SDK's errors onto a {@link ProviderFailure} and call
 * this; never pass a key or a raw request in `reason`.
 *
 * @example
 * ```ts
 * import { providerError } from '@vidgenie/nodes';
 * const error = providerError({
 *   provider: { id: 'openai-text', displayName: 'OpenAI', keyLabel: 'OpenAI key' },
 *   failure: 'invalid_key',
 * });
 * console.log(error.message); // Your OpenAI key was rejected: check it in Settings.
 * ```
 */
export function providerError(
  args: ProviderErrorArgs,
): ProviderRejectedError | ProviderRateLimitedError | ProviderUnavailableError {
  const { provider, failure, reason, cause } = args;
  const name = provider.displayName;
  const fields = { failure, providerId: provider.id, ...(cause === undefined ? {} : { cause }) };
  // A provider's own sentence keeps its words but not its final stop: ours ends the message.
  const trimmed = reason?.trim().replace(/[.\s]+$/, '') ?? '';
  const because = trimmed === '' ? '' : `: ${trimmed}`;
  switch (failure) {
    case 'invalid_key':
      return new ProviderRejectedError(
        `Your ${provider.keyLabel ?? `${name} key`} was rejected: check it in Settings.`,
        fields,
      );
    case 'quota_exhausted':
      return new ProviderRejectedError(
        `Your ${name} account has no quota or credit left${because}. Check your plan and billing with ${name}.`,
        fields,
      );
    case 'content_rejected':
      return new ProviderRejectedError(
        `${name} refused this request${because}. Rephrase the prompt and try again.`,
        fields,
      );
    case 'bad_request':
      return new ProviderRejectedError(`${name} rejected the request${because}.`, fields);
    case 'rate_limited': {
      const afterMs = Math.max(0, args.retryAfterMs ?? DEFAULT_RATE_LIMIT_DELAY_MS);
      return new ProviderRateLimitedError(
        `${name} is limiting requests; retrying in ${Math.ceil(afterMs / 1000)} s.`,
        {
          providerId: provider.id,
          afterMs,
          ...(cause === undefined ? {} : { cause }),
        },
      );
    }
    case 'timeout':
      return new ProviderUnavailableError(`${name} did not answer in time${because}.`, fields);
    case 'malformed_response':
      return new ProviderUnavailableError(`${name} sent an answer we could not read${because}.`, fields);
    case 'unavailable':
      return new ProviderUnavailableError(`${name} is unavailable right now${because}.`, fields);
  }
}

/**
 * Removes every occurrence of a secret from a text (an SDK message may echo a key): defence in
 * depth for messages built from provider answers.
 *
 * @example
 * ```ts
 * import { scrubSecret } from '@vidgenie/nodes';
 * scrubSecret('Incorrect API key provided: sk-abc123', 'sk-abc123'); // 'Incorrect API key provided: [redacted]'
 * ```
 */
export function scrubSecret(text: string, secret: string | undefined): string {
  if (secret === undefined || secret.length < 4) return text;
  return text.split(secret).join('[redacted]');
}

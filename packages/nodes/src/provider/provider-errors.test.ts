import { EngineError, NonRetryableError, RetryAfterError } from '@vidgenie/engine';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RATE_LIMIT_DELAY_MS,
  type ProviderFailure,
  ProviderRateLimitedError,
  ProviderRejectedError,
  ProviderUnavailableError,
  providerError,
  scrubSecret,
} from './provider-errors.ts';

const provider = { id: 'openai-text', displayName: 'OpenAI', keyLabel: 'OpenAI key' };

describe('providerError', () => {
  it.each<[ProviderFailure, typeof ProviderRejectedError | typeof ProviderUnavailableError, string, string]>([
    [
      'invalid_key',
      ProviderRejectedError,
      'NON_RETRYABLE',
      'Your OpenAI key was rejected: check it in Settings.',
    ],
    [
      'quota_exhausted',
      ProviderRejectedError,
      'NON_RETRYABLE',
      'Your OpenAI account has no quota or credit left. Check your plan and billing with OpenAI.',
    ],
    [
      'content_rejected',
      ProviderRejectedError,
      'NON_RETRYABLE',
      'OpenAI refused this request. Rephrase the prompt and try again.',
    ],
    ['bad_request', ProviderRejectedError, 'NON_RETRYABLE', 'OpenAI rejected the request.'],
    ['unavailable', ProviderUnavailableError, 'NODE_FAILED', 'OpenAI is unavailable right now.'],
    ['timeout', ProviderUnavailableError, 'NODE_FAILED', 'OpenAI did not answer in time.'],
    [
      'malformed_response',
      ProviderUnavailableError,
      'NODE_FAILED',
      'OpenAI sent an answer we could not read.',
    ],
  ])('%s → %o (%s)', (failure, kind, code, message) => {
    const error = providerError({ provider, failure });
    expect(error).toBeInstanceOf(kind);
    expect(error).toBeInstanceOf(EngineError);
    expect(error.code).toBe(code);
    expect(error.retryable).toBe(kind === ProviderUnavailableError);
    expect(error instanceof NonRetryableError).toBe(kind === ProviderRejectedError);
    expect(error.message).toBe(message);
    expect(error.failure).toBe(failure);
    expect(error.providerId).toBe('openai-text');
    expect(error.toJSON()).toEqual({
      name: kind === ProviderRejectedError ? 'ProviderRejectedError' : 'ProviderUnavailableError',
      code,
      message,
      retryable: kind === ProviderUnavailableError,
      details: { failure, providerId: 'openai-text' },
    });
  });

  it('adds the provider’s reason to every failure but the invalid key', () => {
    const reason = 'safety_violations=[violence]';
    expect(providerError({ provider, failure: 'content_rejected', reason }).message).toBe(
      'OpenAI refused this request: safety_violations=[violence]. Rephrase the prompt and try again.',
    );
    expect(providerError({ provider, failure: 'quota_exhausted', reason: 'billing' }).message).toBe(
      'Your OpenAI account has no quota or credit left: billing. Check your plan and billing with OpenAI.',
    );
    expect(providerError({ provider, failure: 'bad_request', reason: 'bad size' }).message).toBe(
      'OpenAI rejected the request: bad size.',
    );
    expect(providerError({ provider, failure: 'unavailable', reason: 'HTTP 503' }).message).toBe(
      'OpenAI is unavailable right now: HTTP 503.',
    );
    expect(providerError({ provider, failure: 'timeout', reason: 'after 60 s' }).message).toBe(
      'OpenAI did not answer in time: after 60 s.',
    );
    expect(providerError({ provider, failure: 'malformed_response', reason: 'no choices' }).message).toBe(
      'OpenAI sent an answer we could not read: no choices.',
    );
    expect(providerError({ provider, failure: 'invalid_key', reason: 'sk-secret' }).message).not.toContain(
      'sk-secret',
    );
    expect(providerError({ provider, failure: 'bad_request', reason: '' }).message).toBe(
      'OpenAI rejected the request.',
    );
  });

  it('ends with one full stop when the provider’s reason is a sentence of its own', () => {
    const reason = '`width` and `height` must be integers in [64, 2048]. ';
    expect(providerError({ provider, failure: 'bad_request', reason }).message).toBe(
      'OpenAI rejected the request: `width` and `height` must be integers in [64, 2048].',
    );
    expect(providerError({ provider, failure: 'unavailable', reason: '...' }).message).toBe(
      'OpenAI is unavailable right now.',
    );
  });

  it('names the key by its label, or by the provider’s name without one', () => {
    expect(
      providerError({ provider: { id: 'runway', displayName: 'Runway' }, failure: 'invalid_key' }).message,
    ).toBe('Your Runway key was rejected: check it in Settings.');
  });

  it('rate_limited → a RetryAfterError with the provider’s delay, or the default', () => {
    const error = providerError({ provider, failure: 'rate_limited', retryAfterMs: 1_500 });
    expect(error).toBeInstanceOf(ProviderRateLimitedError);
    expect(error).toBeInstanceOf(RetryAfterError);
    expect(error).toMatchObject({
      code: 'RETRY_AFTER',
      retryable: true,
      afterMs: 1_500,
      failure: 'rate_limited',
    });
    expect(error.message).toBe('OpenAI is limiting requests; retrying in 2 s.');
    expect(error.toJSON().details).toEqual({
      afterMs: 1_500,
      failure: 'rate_limited',
      providerId: 'openai-text',
    });

    const fallback = providerError({ provider, failure: 'rate_limited' });
    expect(fallback).toMatchObject({ afterMs: DEFAULT_RATE_LIMIT_DELAY_MS });
    expect(fallback.message).toBe('OpenAI is limiting requests; retrying in 10 s.');
    expect(providerError({ provider, failure: 'rate_limited', retryAfterMs: -5 })).toMatchObject({
      afterMs: 0,
    });
  });

  it('keeps the cause, and never serialises it', () => {
    const cause = new Error('Incorrect API key provided: sk-secret-1234');
    for (const failure of ['invalid_key', 'rate_limited', 'unavailable'] as const) {
      const error = providerError({ provider, failure, cause });
      expect(error.cause).toBe(cause);
      expect(JSON.stringify(error)).not.toContain('sk-secret');
    }
    expect(providerError({ provider, failure: 'timeout' }).cause).toBeUndefined();
  });
});

describe('scrubSecret', () => {
  it('replaces every occurrence of the secret', () => {
    expect(scrubSecret('Incorrect API key provided: sk-abc123', 'sk-abc123')).toBe(
      'Incorrect API key provided: [redacted]',
    );
    expect(scrubSecret('sk-abc123 and again sk-abc123.', 'sk-abc123')).toBe(
      '[redacted] and again [redacted].',
    );
  });

  it('leaves the text alone without a secret, or with one too short to scrub safely', () => {
    expect(scrubSecret('nothing to hide', 'sk-abc123')).toBe('nothing to hide');
    expect(scrubSecret('key abc', undefined)).toBe('key abc');
    expect(scrubSecret('a b c', 'abc')).toBe('a b c');
    expect(scrubSecret('abc', 'abc')).toBe('abc'); // under 4 characters: scrubbing would mangle text
  });

  it('treats the secret literally (no regular expression)', () => {
    expect(scrubSecret('key: a.b*c+d', 'a.b*c+d')).toBe('key: [redacted]');
    expect(scrubSecret('key: axbxcxd', 'a.b.c.d')).toBe('key: axbxcxd');
  });
});

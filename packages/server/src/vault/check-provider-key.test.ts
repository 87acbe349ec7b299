import {
  ProviderRateLimitedError,
  ProviderRejectedError,
  ProviderUnavailableError,
  providerError,
} from '@vidgenie/nodes';
import { describe, expect, it } from 'vitest';
import { keyedProvider } from '../../test/support/vault-fixtures.ts';
import { checkProviderKey } from './check-provider-key.ts';

const KEY = 'sk-test-0123456789abcdef';
const identity = { id: 'acme', displayName: 'Acme', keyLabel: 'Acme key' };
const check = (
  validateKey: Parameters<typeof keyedProvider>[0]['validateKey'],
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
) =>
  checkProviderKey({
    providers: [
      keyedProvider({
        id: 'acme',
        secret: 'acme',
        label: 'Acme key',
        displayName: 'Acme',
        ...(validateKey === undefined ? {} : { validateKey }),
      }),
    ],
    label: 'Acme key',
    key: KEY,
    signal: options.signal ?? new AbortController().signal,
    timeoutMs: options.timeoutMs ?? 5_000,
  });

describe('checkProviderKey', () => {
  it('valid when the provider accepts the key', async () => {
    expect(await check(async () => ({ valid: true }))).toEqual({
      status: 'valid',
      reason: 'Acme accepted this key.',
    });
  });

  it('invalid with the provider’s reason, scrubbed of the key and clipped', async () => {
    expect(await check(async () => ({ valid: false, reason: `Rejected: ${KEY}\nsee docs` }))).toEqual({
      status: 'invalid',
      reason: 'Rejected: [redacted] see docs',
    });
    const long = await check(async () => ({ valid: false, reason: 'x'.repeat(2000) }));
    expect(long.reason).toHaveLength(500);
  });

  it('invalid when the provider throws a rejected key or an empty account', async () => {
    const rejected = await check(async () => {
      throw providerError({ provider: identity, failure: 'invalid_key' });
    });
    expect(rejected).toEqual({
      status: 'invalid',
      reason: 'Your Acme key was rejected: check it in Settings.',
    });
    const quota = await check(async () => {
      throw providerError({ provider: identity, failure: 'quota_exhausted' });
    });
    expect(quota.status).toBe('invalid');
    expect(quota.reason).toMatch(/no quota or credit left/);
  });

  it('unchecked when the provider cannot be asked: outage, rate limit, odd refusal, unknown error', async () => {
    const outage = await check(async () => {
      throw new ProviderUnavailableError('Acme is unavailable right now (HTTP 503).', {
        failure: 'unavailable',
        providerId: 'acme',
      });
    });
    expect(outage).toEqual({
      status: 'unchecked',
      reason: 'Acme is unavailable right now (HTTP 503). The key could not be checked: try again later.',
    });
    const limited = await check(async () => {
      throw new ProviderRateLimitedError('Acme is limiting requests; retrying in 10 s.', {
        providerId: 'acme',
        afterMs: 10_000,
      });
    });
    expect(limited.status).toBe('unchecked');
    const odd = await check(async () => {
      throw new ProviderRejectedError('Acme rejected the request.', {
        failure: 'bad_request',
        providerId: 'acme',
      });
    });
    expect(odd).toEqual({
      status: 'unchecked',
      reason: 'Acme refused the check: Acme rejected the request.',
    });
    const unknown = await check(async () => {
      throw new Error(`fetch failed for https://acme.example/v1/me?key=${KEY}`);
    });
    expect(unknown).toEqual({
      status: 'unchecked',
      reason: 'Could not reach Acme to check the key: try again later.',
    });
  });

  it('unchecked after the timeout, aborting the provider call', async () => {
    let aborted = false;
    const result = await check(
      (_key, { signal }) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            reject(signal.reason);
          });
        }),
      { timeoutMs: 50 },
    );
    expect(aborted).toBe(true);
    expect(result).toEqual({
      status: 'unchecked',
      reason: 'Acme did not answer within 1 s, so the key could not be checked: try again later.',
    });
  });

  it('rejects with the caller’s reason when the caller gives up', async () => {
    const controller = new AbortController();
    const pending = check(
      (_key, { signal }) =>
        new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      { signal: controller.signal },
    );
    controller.abort(new Error('client went away'));
    await expect(pending).rejects.toThrow('client went away');
  });

  it('unchecked when no provider of the slot can check keys', async () => {
    expect(await check(undefined)).toEqual({
      status: 'unchecked',
      reason: 'This Acme key cannot be checked in advance: it is used as entered.',
    });
  });
});

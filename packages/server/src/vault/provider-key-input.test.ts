import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors/api-error.ts';
import { lastFourOf, MAX_PROVIDER_KEY_LENGTH, normalizeProviderKey } from './provider-key-input.ts';

function problem(raw: string): ApiError {
  try {
    normalizeProviderKey(raw, 'OpenAI key');
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('expected a validation error');
}

describe('normalizeProviderKey', () => {
  it('trims', () => {
    expect(normalizeProviderKey('  sk-abc\n', 'OpenAI key')).toBe('sk-abc');
  });

  it('refuses empty, too long, and inner whitespace or control characters, never echoing the key', () => {
    expect(problem('   ').message).toBe('Enter your OpenAI key.');
    const long = `sk-${'a'.repeat(MAX_PROVIDER_KEY_LENGTH)}`;
    const tooLong = problem(long);
    expect(tooLong.code).toBe('VALIDATION_FAILED');
    expect(tooLong.message).toBe('This OpenAI key is too long: keys are at most 512 characters.');
    expect(JSON.stringify(tooLong.toBody())).not.toContain(long);
    expect(problem('sk-abc def').message).toMatch(/spaces or invisible characters/);
    expect(problem('sk-abc\u0000def').message).toMatch(/spaces or invisible characters/);
    expect(problem('sk-abc\u200bdef').code).toBe('VALIDATION_FAILED');
    expect(normalizeProviderKey('é'.repeat(512), 'OpenAI key')).toHaveLength(512);
  });
});

describe('lastFourOf', () => {
  it('shows at most four characters, and none of a short key', () => {
    expect(lastFourOf('sk-proj-0123456789abcd')).toBe('abcd');
    expect(lastFourOf('short-key')).toBe('');
    expect(lastFourOf('sk-🦊🦊🦊🦊🦊🦊🦊🦊🦊')).toBe('🦊🦊🦊🦊');
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (key) => {
        const shown = lastFourOf(key);
        expect([...shown].length).toBeLessThanOrEqual(4);
        expect(key.endsWith(shown)).toBe(true);
        if ([...key].length < 12) expect(shown).toBe('');
      }),
    );
  });
});

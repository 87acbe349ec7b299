import { describe, expect, it } from 'vitest';
import { newId } from './new-id.ts';

describe('newId', () => {
  it('is the prefix, an underscore and 128 bits in base64url', () => {
    const id = newId('run');
    expect(id).toMatch(/^run_[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(id.slice(4), 'base64url')).toHaveLength(16);
  });

  it('never repeats across many draws of the pool (20,000 ids: 78 refills)', () => {
    const ids = Array.from({ length: 20_000 }, () => newId('x'));
    expect(new Set(ids).size).toBe(ids.length);
    // No 16-byte body shares even its first 8 bytes with another: the bytes are used once each.
    const heads = new Set(
      ids.map((id) => Buffer.from(id.slice(2), 'base64url').subarray(0, 8).toString('hex')),
    );
    expect(heads.size).toBe(ids.length);
  });

  it('spreads its bits: each of the 128 bit positions is set in about half of the ids', () => {
    const n = 4_000;
    const ones = new Array<number>(128).fill(0);
    for (let i = 0; i < n; i++) {
      const bytes = Buffer.from(newId('x').slice(2), 'base64url');
      for (let bit = 0; bit < 128; bit++) if ((bytes[bit >> 3]! >> (bit & 7)) & 1) ones[bit]!++;
    }
    // Binomial(4000, 0.5): σ ≈ 32; 8σ leaves no room for a stuck bit and no chance of a false alarm.
    for (const count of ones) expect(Math.abs(count - n / 2)).toBeLessThan(256);
  });
});

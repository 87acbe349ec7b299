import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createKeyRing, generateVaultKey } from './key-ring.ts';
import { PROVIDER_KEY_AAD_DOMAIN, providerKeyAad } from './provider-key-aad.ts';
import { SEALED_FORMAT_VERSION, seal, UnsealError, unseal } from './seal.ts';

const ring = createKeyRing([
  { id: 'k1', key: generateVaultKey() },
  { id: 'k2', key: generateVaultKey() },
]);
const context = { userId: 'usr_a', providerId: 'openai' };
const sealFor = (plaintext: string | Uint8Array, ctx = context, r = ring) =>
  seal({ ring: r, plaintext, aad: (keyId) => providerKeyAad({ ...ctx, keyId }) });
const open = (sealed: Uint8Array, keyId: string, ctx = context, r = ring) =>
  unseal({ ring: r, keyId, sealed, aad: providerKeyAad({ ...ctx, keyId }) });

/** Every context field a ciphertext is bound to; fast-check varies each. */
const id = fc.string({ unit: 'binary', minLength: 1, maxLength: 40 });

describe('seal / unseal (AES-256-GCM)', () => {
  it('round-trips any string, unicode included, and any bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 600 }), (plaintext) => {
        const { keyId, sealed } = sealFor(plaintext);
        expect(keyId).toBe('k2');
        expect(open(sealed, keyId).toString('utf8')).toBe(plaintext);
      }),
    );
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 100 }), (plaintext) => {
        const { keyId, sealed } = sealFor(plaintext);
        expect(open(sealed, keyId).toString('utf8')).toBe(plaintext);
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const { keyId, sealed } = sealFor(bytes);
        expect(new Uint8Array(open(sealed, keyId))).toEqual(bytes);
      }),
    );
  });

  it('writes version(1) | iv(12) | tag(16) | ciphertext, the ciphertext as long as the plaintext', () => {
    const { sealed } = sealFor('sk-0123456789');
    expect(sealed[0]).toBe(SEALED_FORMAT_VERSION);
    expect(sealed.byteLength).toBe(1 + 12 + 16 + 'sk-0123456789'.length);
    expect(sealed.includes(Buffer.from('sk-0123456789'))).toBe(false);
  });

  it('fails on any single flipped byte: version, IV, tag or ciphertext', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 80 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (plaintext, at, mask) => {
          const { keyId, sealed } = sealFor(plaintext);
          const altered = Buffer.from(sealed);
          const index = at % altered.byteLength;
          altered[index] = altered[index]! ^ mask;
          expect(() => open(altered, keyId)).toThrow(UnsealError);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('fails when bytes are cut off or added', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), fc.nat(), (plaintext, cut) => {
        const { keyId, sealed } = sealFor(plaintext);
        expect(() => open(sealed.subarray(0, cut % sealed.byteLength), keyId)).toThrow(UnsealError);
        expect(() => open(Buffer.concat([sealed, Buffer.of(cut % 256)]), keyId)).toThrow(UnsealError);
      }),
    );
  });

  it('fails under another user, another provider or another key id (AAD mismatch)', () => {
    fc.assert(
      fc.property(id, id, id, id, (userId, providerId, otherUser, otherProvider) => {
        fc.pre(userId !== otherUser && providerId !== otherProvider);
        const ctx = { userId, providerId };
        const { keyId, sealed } = sealFor('sk-secret-value', ctx);
        expect(open(sealed, keyId, ctx).toString()).toBe('sk-secret-value');
        expect(() => open(sealed, keyId, { userId: otherUser, providerId })).toThrow(UnsealError);
        expect(() => open(sealed, keyId, { userId, providerId: otherProvider })).toThrow(UnsealError);
      }),
    );
  });

  it('binds the key id itself: the same key under another id does not open it', () => {
    const key = generateVaultKey();
    const aliased = createKeyRing([
      { id: 'old', key },
      { id: 'new', key },
    ]);
    const { keyId, sealed } = sealFor('sk-secret-value', context, aliased);
    expect(keyId).toBe('new');
    expect(() =>
      unseal({ ring: aliased, keyId: 'old', sealed, aad: providerKeyAad({ ...context, keyId: 'new' }) }),
    ).not.toThrow();
    expect(() => open(sealed, 'old', context, aliased)).toThrow(UnsealError);
  });

  it('fails with a key id the ring does not have, or another ring', () => {
    const { keyId, sealed } = sealFor('sk-secret-value');
    expect(() => open(sealed, 'k9')).toThrow(UnsealError);
    const other = createKeyRing([{ id: 'k2', key: generateVaultKey() }]);
    expect(() => open(sealed, keyId, context, other)).toThrow(UnsealError);
  });

  it('fails every way with the same error and message (no oracle)', () => {
    const { keyId, sealed } = sealFor('sk-secret-value');
    const tagFlipped = Buffer.from(sealed);
    tagFlipped[20] = tagFlipped[20]! ^ 1;
    const versionFlipped = Buffer.from(sealed);
    versionFlipped[0] = 2;
    const failures = [
      () => open(tagFlipped, keyId),
      () => open(versionFlipped, keyId),
      () => open(sealed.subarray(0, 10), keyId),
      () => open(sealed, 'k9'),
      () => open(sealed, keyId, { userId: 'usr_b', providerId: 'openai' }),
    ].map((attempt) => {
      try {
        attempt();
      } catch (error) {
        return error;
      }
      throw new Error('expected a failure');
    });
    for (const error of failures) {
      expect(error).toBeInstanceOf(UnsealError);
      expect((error as Error).message).toBe('The sealed value could not be opened.');
      expect((error as Error).cause).toBeUndefined();
    }
  });

  it('never reuses an IV: 100,000 encryptions of one plaintext, all IVs and ciphertexts distinct', () => {
    const ivs = new Set<string>();
    const ciphertexts = new Set<string>();
    const count = 100_000;
    for (let i = 0; i < count; i++) {
      const { sealed } = sealFor('sk-same-plaintext');
      ivs.add(sealed.subarray(1, 13).toString('base64'));
      ciphertexts.add(sealed.subarray(29).toString('base64'));
    }
    expect(ivs.size).toBe(count);
    expect(ciphertexts.size).toBe(count);
  });
});

describe('providerKeyAad', () => {
  it('is a JSON array led by the domain', () => {
    expect(JSON.parse(providerKeyAad({ userId: 'u', providerId: 'p', keyId: 'k' }).toString())).toEqual([
      PROVIDER_KEY_AAD_DOMAIN,
      'u',
      'p',
      'k',
    ]);
  });

  it('encodes distinct contexts distinctly, whatever separators the ids contain', () => {
    const part = fc.string({
      unit: fc.constantFrom('a', '|', ',', '"', '\\', ':', '[', ']', '\u0000'),
      maxLength: 6,
    });
    fc.assert(
      fc.property(fc.tuple(part, part, part), fc.tuple(part, part, part), (a, b) => {
        const encode = ([userId, providerId, keyId]: [string, string, string]) =>
          providerKeyAad({ userId, providerId, keyId }).toString('base64');
        expect(encode(a) === encode(b)).toBe(a.every((x, i) => x === b[i]));
      }),
      { numRuns: 2000 },
    );
  });
});

import { describe, expect, it } from 'vitest';
import { createKeyRing, generateVaultKey, KeyRingError, keyMaterial, parseKeyRing } from './key-ring.ts';

const key32 = () => generateVaultKey().toString('base64');

/** The error a parse throws, checked never to echo any key material given. */
function parseError(value: string): KeyRingError {
  try {
    parseKeyRing(value);
  } catch (error) {
    expect(error).toBeInstanceOf(KeyRingError);
    const message = (error as Error).message;
    for (const part of value.split(/[,:]/)) {
      if (part.length >= 8) expect(message).not.toContain(part);
    }
    return error as KeyRingError;
  }
  throw new Error('expected a KeyRingError');
}

describe('parseKeyRing (VIDGENIE_ENCRYPTION_KEYS)', () => {
  it('reads id:base64 entries, the last one active, keys decoded', () => {
    const a = generateVaultKey();
    const b = generateVaultKey();
    const ring = parseKeyRing(` k1:${a.toString('base64')} , k-2:${b.toString('base64url')}:2025-06-01`);
    expect(ring.source).toBe('env');
    expect(ring.keys.map((key) => key.id)).toEqual(['k1', 'k-2']);
    expect(ring.active).toEqual({ id: 'k-2', createdAt: new Date('2025-06-01') });
    expect(ring.keys[0]?.createdAt).toBeUndefined();
    expect(keyMaterial(ring, 'k1')).toEqual(a);
    expect(keyMaterial(ring, 'k-2')).toEqual(b);
    expect(ring.find('k1')?.id).toBe('k1');
    expect(ring.find('nope')).toBeUndefined();
  });

  it('names the bad entry and what is wrong, without the key', () => {
    const good = key32();
    expect(parseError('').message).toMatch(/VIDGENIE_ENCRYPTION_KEYS: no key is set/);
    expect(parseError(`k1:${good},`).message).toMatch(/entry 2 is empty/);
    expect(parseError(good).message).toMatch(/entry 1 is not of the form "id:base64"/);
    expect(parseError(`k1:${good}:2025-01-01:x`).message).toMatch(/entry 1 is not of the form/);
    const badId = parseError(`k1:${good},Key_Two:${key32()}`);
    expect(badId.message).toMatch(/entry 2: the id must be 1 to 32 characters among a-z, 0-9 and "-"/);
    expect(parseError(`${'k'.repeat(33)}:${good}`).message).toMatch(/entry 1: the id must be/);
    expect(parseError(`k1:${good},k1:${key32()}`).message).toMatch(
      /entry 2 \("k1"\): the id is already used by entry 1/,
    );
    const short = Buffer.alloc(16, 7).toString('base64');
    expect(parseError(`k1:${good},k2:${short}`).message).toMatch(
      /entry 2 \("k2"\): the key must be 32 bytes in base64/,
    );
    expect(parseError(`k1:${'not base64!'.repeat(4)}`).message).toMatch(
      /entry 1 \("k1"\): the key must be 32 bytes/,
    );
    expect(parseError(`k1:${Buffer.alloc(33, 1).toString('base64')}`).message).toMatch(/must be 32 bytes/);
    expect(parseError(`k1:${good}:last-tuesday`).message).toMatch(
      /entry 1 \("k1"\): the creation date must be YYYY-MM-DD/,
    );
    expect(parseError(`k1:${good}:2025-13-45`).message).toMatch(/creation date/);
  });
});

describe('createKeyRing', () => {
  it('refuses an empty ring, bad ids, repeated ids and keys that are not 32 bytes', () => {
    expect(() => createKeyRing([])).toThrow(KeyRingError);
    expect(() => createKeyRing([{ id: 'UPPER', key: generateVaultKey() }])).toThrow(/id must be/);
    expect(() =>
      createKeyRing([
        { id: 'a', key: generateVaultKey() },
        { id: 'a', key: generateVaultKey() },
      ]),
    ).toThrow(/used twice/);
    expect(() => createKeyRing([{ id: 'a', key: new Uint8Array(31) }])).toThrow(/32 bytes \(got 31\)/);
  });

  it('keeps key material out of the object: JSON and inspection show ids and dates only', async () => {
    const key = generateVaultKey();
    const ring = createKeyRing([{ id: 'k1', key, createdAt: new Date('2025-01-01') }]);
    const { inspect } = await import('node:util');
    for (const text of [JSON.stringify(ring), inspect(ring, { depth: 10, showHidden: true })]) {
      expect(text).not.toContain(key.toString('base64'));
      expect(text).not.toContain(key.toString('hex'));
    }
    expect(Object.isFrozen(ring)).toBe(true);
    // The ring copied the key: changing the caller's buffer changes nothing.
    const before = Buffer.from(keyMaterial(ring, 'k1')!);
    key.fill(0);
    expect(keyMaterial(ring, 'k1')).toEqual(before);
  });
});

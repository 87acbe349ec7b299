import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/server-config.ts';
import { generateVaultKey, KeyRingError } from './key-ring.ts';
import { resolveKeyRing } from './resolve-key-ring.ts';

const now = new Date('2025-06-01T00:00:00Z');
const entry = (id: string, date?: string) =>
  `${id}:${generateVaultKey().toString('base64')}${date === undefined ? '' : `:${date}`}`;
const dataDir = async () => mkdtemp(join(tmpdir(), 'vidgenie-ring-'));

describe('resolveKeyRing', () => {
  it('uses VIDGENIE_ENCRYPTION_KEYS when set, and reports the active key age', async () => {
    const config = loadConfig({
      VIDGENIE_ENCRYPTION_KEYS: `${entry('k1', '2024-01-01')},${entry('k2', '2025-05-01')}`,
      VIDGENIE_DATA_DIR: await dataDir(),
    });
    const resolved = await resolveKeyRing(config, { now });
    expect(resolved.source).toBe('env');
    expect(resolved.keyFile).toBeUndefined();
    expect(resolved.ring.active.id).toBe('k2');
    expect(resolved.activeKeyAgeDays).toBe(31);
    expect(resolved.rotationDue).toBe(false);
    expect(resolved.warnings).toEqual([]);
  });

  it('warns once a configured key passes the rotation period', async () => {
    const config = loadConfig({
      VIDGENIE_ENCRYPTION_KEYS: entry('k1', '2025-01-01'),
      VIDGENIE_KEY_ROTATION_DAYS: '90',
    });
    const resolved = await resolveKeyRing(config, { now });
    expect(resolved.activeKeyAgeDays).toBe(151);
    expect(resolved.rotationDue).toBe(true);
    expect(resolved.warnings).toEqual([
      expect.stringMatching(/Vault key "k1" is 151 days old \(rotation period: 90 days\)\. Add a new key/),
    ]);
  });

  it('says when a configured key has no date (its age is then counted from first use)', async () => {
    const resolved = await resolveKeyRing(loadConfig({ VIDGENIE_ENCRYPTION_KEYS: entry('k1') }), { now });
    expect(resolved.activeKeyAgeDays).toBeUndefined();
    expect(resolved.rotationDue).toBe(false);
    expect(resolved.warnings).toEqual([expect.stringMatching(/id:base64:YYYY-MM-DD/)]);
  });

  it('falls back to the key file in embedded mode, production included', async () => {
    const dir = await dataDir();
    const first = await resolveKeyRing(loadConfig({ VIDGENIE_DATA_DIR: dir, NODE_ENV: 'production' }), {
      now,
    });
    expect(first).toMatchObject({ source: 'file', created: true, activeKeyAgeDays: 0, rotationDue: false });
    expect(first.keyFile).toBe(join(dir, 'vault-keys.json'));
    const later = new Date(now.getTime() + 91 * 86_400_000);
    const rotated = await resolveKeyRing(loadConfig({ VIDGENIE_DATA_DIR: dir }), { now: later });
    expect(rotated.added?.id).toBe(rotated.ring.active.id);
    expect(rotated.ring.keys).toHaveLength(2);
    expect(rotated.rotationDue).toBe(false);
  });

  it('is a clear start-up error in production with DATABASE_URL and no keys', async () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://db.example.com/vidgenie',
      VIDGENIE_DATA_DIR: await dataDir(),
    });
    const error = await resolveKeyRing(config, { now }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyRingError);
    expect((error as Error).message).toMatch(
      /^VIDGENIE_ENCRYPTION_KEYS is not set\..*set VIDGENIE_ENCRYPTION_KEYS/,
    );
  });

  it('reports malformed keys as a start-up error naming the entry', async () => {
    const config = loadConfig({ NODE_ENV: 'production', VIDGENIE_ENCRYPTION_KEYS: 'k1:tooshort' });
    await expect(resolveKeyRing(config, { now })).rejects.toThrow(
      /entry 1 \("k1"\): the key must be 32 bytes/,
    );
  });
});

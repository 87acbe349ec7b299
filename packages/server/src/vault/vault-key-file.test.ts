import { chmod, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeyRingError, keyMaterial } from './key-ring.ts';
import { loadOrCreateKeyFile, rotateKeyFile, VAULT_KEY_FILE_NAME } from './vault-key-file.ts';

const DAY = 86_400_000;
const start = new Date('2025-01-10T12:00:00Z');
const later = (days: number) => new Date(start.getTime() + days * DAY);
const freshDir = async () => join(await mkdtemp(join(tmpdir(), 'vidgenie-vault-')), 'data');
const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe('the embedded key file', () => {
  it('is created on first start: directory 0700, file 0600, one 32-byte key dated now', async () => {
    const dir = await freshDir();
    const first = await loadOrCreateKeyFile(dir, { now: start, rotationDays: 90 });
    expect(first.created).toBe(true);
    expect(first.added).toBeUndefined();
    expect(first.path).toBe(join(dir, VAULT_KEY_FILE_NAME));
    expect(await mode(dir)).toBe(0o700);
    expect(await mode(first.path)).toBe(0o600);
    expect(first.ring.source).toBe('file');
    expect(first.ring.keys).toHaveLength(1);
    expect(first.ring.active).toEqual({ id: 'v1-20250110', createdAt: start });
    expect(keyMaterial(first.ring, 'v1-20250110')?.byteLength).toBe(32);
    const json = JSON.parse(await readFile(first.path, 'utf8'));
    expect(json).toEqual({
      version: 1,
      keys: [
        {
          id: 'v1-20250110',
          key: keyMaterial(first.ring, 'v1-20250110')!.toString('base64'),
          createdAt: start.toISOString(),
        },
      ],
    });
  });

  it('is reused on later starts: same key, nothing added within the rotation period', async () => {
    const dir = await freshDir();
    const first = await loadOrCreateKeyFile(dir, { now: start, rotationDays: 90 });
    const again = await loadOrCreateKeyFile(dir, { now: later(89), rotationDays: 90 });
    expect(again.created).toBe(false);
    expect(again.added).toBeUndefined();
    expect(again.ring.keys).toEqual(first.ring.keys);
    expect(keyMaterial(again.ring, first.ring.active.id)).toEqual(
      keyMaterial(first.ring, first.ring.active.id),
    );
  });

  it('gains a new active version once the active key passes the rotation period, keeping the old one', async () => {
    const dir = await freshDir();
    const first = await loadOrCreateKeyFile(dir, { now: start, rotationDays: 90 });
    const rotated = await loadOrCreateKeyFile(dir, { now: later(90), rotationDays: 90 });
    expect(rotated.added).toEqual({ id: 'v2-20250410', createdAt: later(90) });
    expect(rotated.ring.active.id).toBe('v2-20250410');
    expect(rotated.ring.keys.map((key) => key.id)).toEqual(['v1-20250110', 'v2-20250410']);
    expect(keyMaterial(rotated.ring, 'v1-20250110')).toEqual(keyMaterial(first.ring, 'v1-20250110'));
    expect(keyMaterial(rotated.ring, 'v2-20250410')).not.toEqual(keyMaterial(first.ring, 'v1-20250110'));
    expect(await mode(rotated.path)).toBe(0o600);
    // The next start reads both and adds nothing until the new key ages.
    const next = await loadOrCreateKeyFile(dir, { now: later(100), rotationDays: 90 });
    expect(next.added).toBeUndefined();
    expect(next.ring.keys.map((key) => key.id)).toEqual(['v1-20250110', 'v2-20250410']);
  });

  it('rotateKeyFile adds a version whenever asked', async () => {
    const dir = await freshDir();
    await loadOrCreateKeyFile(dir, { now: start });
    const { ring, added } = await rotateKeyFile(dir, { now: start });
    expect(added?.id).toBe('v2-20250110');
    expect(ring.active.id).toBe('v2-20250110');
    const third = await rotateKeyFile(dir, { now: later(1) });
    expect(third.ring.keys.map((key) => key.id)).toEqual(['v1-20250110', 'v2-20250110', 'v3-20250111']);
  });

  it('tightens a file other users could read, and says so', async () => {
    const dir = await freshDir();
    const { path } = await loadOrCreateKeyFile(dir, { now: start });
    await chmod(path, 0o644);
    const again = await loadOrCreateKeyFile(dir, { now: start });
    expect(await mode(path)).toBe(0o600);
    expect(again.warnings).toEqual([
      expect.stringMatching(/readable by other users \(mode 644\); its mode is now 600/),
    ]);
  });

  it('refuses a malformed file without echoing its keys', async () => {
    const dir = await freshDir();
    const { path } = await loadOrCreateKeyFile(dir, { now: start });
    const secret = Buffer.alloc(20, 9).toString('base64');
    await writeFile(
      path,
      JSON.stringify({ version: 1, keys: [{ id: 'v1', key: secret, createdAt: start.toISOString() }] }),
    );
    const error = await loadOrCreateKeyFile(dir, { now: start }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyRingError);
    expect((error as Error).message).toMatch(/keys\.0\.key \("v1"\) is not 32 bytes of base64/);
    expect((error as Error).message).not.toContain(secret);
    await writeFile(path, '{ not json');
    await expect(loadOrCreateKeyFile(dir, { now: start })).rejects.toThrow(/is not valid JSON/);
    await writeFile(path, JSON.stringify({ version: 2, keys: [] }));
    await expect(loadOrCreateKeyFile(dir, { now: start })).rejects.toThrow(/is malformed at "version"/);
  });

  it('two first starts at once agree on one key', async () => {
    const dir = await freshDir();
    const [a, b] = await Promise.all([
      loadOrCreateKeyFile(dir, { now: start }),
      loadOrCreateKeyFile(dir, { now: start }),
    ]);
    expect([a.created, b.created].filter(Boolean)).toHaveLength(1);
    expect(keyMaterial(a.ring, a.ring.active.id)).toEqual(keyMaterial(b.ring, b.ring.active.id));
  });
});

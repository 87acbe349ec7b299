import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProviderRegistry } from '@vidgenie/nodes';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { listAudit } from '../src/audit/audit-log.ts';
import { loadConfig } from '../src/config/server-config.ts';
import { generateVaultKey, type KeyRing, parseKeyRing } from '../src/vault/key-ring.ts';
import { createProviderKeyVault, type ProviderKeyVault } from '../src/vault/provider-key-vault.ts';
import { formatRotateKeysReport, rotateKeys } from '../src/vault/rotate-keys.ts';
import { startBackgroundRewrap, type VaultLog } from '../src/vault/start-background-rewrap.ts';
import { loadOrCreateKeyFile } from '../src/vault/vault-key-file.ts';
import { describeEachDatabase } from './support/test-databases.ts';
import { createUser, keyedProvider, ringOf, withNewKey, withoutKeys } from './support/vault-fixtures.ts';

const providers = createProviderRegistry([
  keyedProvider({ id: 'alpha', secret: 'alpha', label: 'Alpha key' }),
  keyedProvider({ id: 'beta', secret: 'beta', label: 'Beta key' }),
]);
const vaultOn = (db: Parameters<typeof createProviderKeyVault>[0]['db'], ring: KeyRing): ProviderKeyVault =>
  createProviderKeyVault({ db, ring, providers });
const secret = (label: string) => `${label}-${randomBytes(8).toString('hex')}`;

/** Users seeded by the current test. */
const seededUsers: string[] = [];

/** Saves a key for `count` new users; returns each user's id and key. */
async function seed(vault: ProviderKeyVault, db: Parameters<typeof createUser>[0], count: number) {
  const saved: { userId: string; key: string }[] = [];
  for (let i = 0; i < count; i++) {
    const userId = await createUser(db);
    seededUsers.push(userId);
    const key = secret('alpha');
    await vault.save({ userId, providerId: 'alpha', key, actorUserId: userId });
    saved.push({ userId, key });
  }
  return saved;
}

/** A log that remembers lines and lets a test wait for one. */
function recordingLog() {
  const lines: { level: string; message: string; details: Record<string, unknown> }[] = [];
  const waiters: { message: string; resolve: () => void }[] = [];
  const write = (level: string) => (details: Record<string, unknown>, message: string) => {
    lines.push({ level, message, details });
    for (const waiter of waiters.filter((w) => w.message === message)) waiter.resolve();
  };
  const log: VaultLog = { info: write('info'), warn: write('warn'), error: write('error') };
  return {
    log,
    lines,
    next: (message: string) => new Promise<void>((resolve) => waiters.push({ message, resolve })),
  };
}

describeEachDatabase('vault rewrap', ({ db }) => {
  // One key lineage for the whole file, so every row of this database stays decryptable.
  let ring: KeyRing;
  let generation = 1;
  const rotate = () => {
    ring = withNewKey(ring, `g${++generation}`);
    return ring;
  };
  const notOnActive = async () =>
    Number(
      (
        await db()
          .selectFrom('provider_keys')
          .select((eb) => eb.fn.countAll<number>().as('rows'))
          .where('key_id', '<>', ring.active.id)
          .executeTakeFirstOrThrow()
      ).rows,
    );
  beforeAll(() => {
    ring = ringOf('g1');
  });

  it('moves every row to a newly added key version, values intact, each batch audited', async () => {
    const saved = await seed(vaultOn(db(), ring), db(), 23);
    const oldKey = ring.active.id;
    const vault = vaultOn(db(), rotate());
    const pending = await notOnActive();
    expect(pending).toBeGreaterThanOrEqual(23);
    const report = await vault.rewrap({ batchSize: 5 });
    expect(report).toMatchObject({
      activeKeyId: ring.active.id,
      rewrapped: pending,
      skipped: 0,
      failed: 0,
      batches: Math.ceil(pending / 5),
      complete: true,
      remainingByKeyId: {},
    });
    expect(await notOnActive()).toBe(0);
    for (const { userId, key } of saved) {
      expect(await vault.decryptForUse({ userId, providerId: 'alpha', purpose: 'check' })).toBe(key);
    }
    const audits = await db()
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'vault.rewrapped')
      .where('target', '=', ring.active.id)
      .execute();
    expect(audits).toHaveLength(report.batches);
    expect(audits.reduce((sum, row) => sum + Number(row.detail.rewrapped), 0)).toBe(pending);
    expect(
      audits.some((row) => (row.detail.fromKeyIds as Record<string, number>)[oldKey] !== undefined),
    ).toBe(true);
    expect((await vault.rewrap()).rewrapped).toBe(0);
  });

  it('resumes a rewrap stopped after one batch (as after a kill) and finishes it', async () => {
    await seed(vaultOn(db(), ring), db(), 12);
    const vault = vaultOn(db(), rotate());
    const pending = await notOnActive();
    const first = await vault.rewrap({ batchSize: 4, maxBatches: 1 });
    expect(first).toMatchObject({ rewrapped: 4, batches: 1, complete: false });
    expect(Object.values(first.remainingByKeyId).reduce((a, b) => a + b, 0)).toBe(pending - 4);
    expect(
      formatRotateKeysReport({ source: 'env', keyFile: undefined, added: undefined, ring, rewrap: first }),
    ).toMatch(/Stopped before the end: run "vidgenie keys rotate" again to finish\./);
    const aborted = new AbortController();
    aborted.abort();
    expect(await vault.rewrap({ signal: aborted.signal })).toMatchObject({ rewrapped: 0, complete: false });
    const rest = await vault.rewrap({ batchSize: 4 });
    expect(rest).toMatchObject({ rewrapped: pending - 4, complete: true, remainingByKeyId: {} });
    expect(await notOnActive()).toBe(0);
  });

  it('loses nothing to saves made during a rewrap, by up-to-date and not-yet-restarted servers', async () => {
    const oldVault = vaultOn(db(), ring);
    const untouched = await seed(oldVault, db(), 15);
    const replacedByNew = await seed(oldVault, db(), 15);
    const replacedByOld = await seed(oldVault, db(), 10);
    const newVault = vaultOn(db(), rotate());
    const latest = new Map<string, string>();
    for (const { userId, key } of untouched) latest.set(`${userId}/alpha`, key);

    const writes = [
      ...replacedByNew.map(async ({ userId }) => {
        const key = secret('new');
        await newVault.save({ userId, providerId: 'alpha', key, actorUserId: userId });
        latest.set(`${userId}/alpha`, key);
        const beta = secret('beta');
        await newVault.save({ userId, providerId: 'beta', key: beta, actorUserId: userId });
        latest.set(`${userId}/beta`, beta);
      }),
      ...replacedByOld.map(async ({ userId }) => {
        const key = secret('old');
        await oldVault.save({ userId, providerId: 'alpha', key, actorUserId: userId });
        latest.set(`${userId}/alpha`, key);
      }),
    ];
    const [report] = await Promise.all([newVault.rewrap({ batchSize: 3 }), ...writes]);
    expect(report.failed).toBe(0);
    // Rows the old server re-sealed behind the rewrap's cursor are picked up by the next pass.
    const second = await newVault.rewrap({ batchSize: 3 });
    expect(second).toMatchObject({ failed: 0, complete: true, remainingByKeyId: {} });
    expect(await notOnActive()).toBe(0);
    expect(latest.size).toBe(15 + 15 * 2 + 10);
    for (const [slot, key] of latest) {
      const [userId, providerId] = slot.split('/') as [string, string];
      expect(await newVault.decryptForUse({ userId, providerId, purpose: 'check' })).toBe(key);
    }
  });

  it('leaves rows it cannot open, reports them, and works on without the retired key', async () => {
    const orphanRing = ringOf('lost-key');
    const orphanUser = await createUser(db());
    await vaultOn(db(), orphanRing).save({
      userId: orphanUser,
      providerId: 'alpha',
      key: 'orphan-000000000001',
      actorUserId: orphanUser,
    });
    const saved = await seed(vaultOn(db(), ring), db(), 3);
    const previous = ring.active.id;
    const vault = vaultOn(db(), rotate());
    const report = await vault.rewrap({ batchSize: 2 });
    expect(report).toMatchObject({ failed: 1, complete: true, remainingByKeyId: { 'lost-key': 1 } });
    expect(
      formatRotateKeysReport({ source: 'env', keyFile: undefined, added: undefined, ring, rewrap: report }),
    ).toMatch(/1 stored key could not be decrypted/);
    expect((await vault.keyStats()).unknownKeyIds).toEqual(['lost-key']);
    // Retire the previous key: every row it sealed was moved, so nothing breaks.
    const retired = vaultOn(db(), withoutKeys(ring, previous));
    for (const { userId, key } of saved) {
      expect(await retired.decryptForUse({ userId, providerId: 'alpha', purpose: 'check' })).toBe(key);
    }
    await db().deleteFrom('provider_keys').where('user_id', '=', orphanUser).execute();
  });

  it('rewraps in the background until stopped', async () => {
    const saved = await seed(vaultOn(db(), ring), db(), 6);
    const vault = vaultOn(db(), rotate());
    const { log, lines, next } = recordingLog();
    const rewrapped = next('vault keys rewrapped');
    const stop = startBackgroundRewrap({ vault, intervalMs: 60_000, log, batchSize: 4 });
    await rewrapped;
    await stop();
    expect(lines.filter((line) => line.level === 'error')).toEqual([]);
    expect(await notOnActive()).toBe(0);
    for (const { userId, key } of saved) {
      expect(await vault.decryptForUse({ userId, providerId: 'alpha', purpose: 'check' })).toBe(key);
    }
  });

  it('refuses to switch to a ring that lacks a current key', () => {
    const vault = vaultOn(db(), ring);
    expect(() => vault.useKeyRing(ringOf('other'))).toThrow(/lacks key\(s\)/);
    const bigger = withNewKey(ring, 'next-one');
    vault.useKeyRing(bigger);
    expect(vault.ring.active.id).toBe('next-one');
  });
});

describeEachDatabase('vidgenie keys rotate', ({ db }) => {
  const day = 86_400_000;
  const start = new Date('2025-01-01T00:00:00Z');
  // Each test here has a ring of its own: its rows go when it ends, so the next test's ring can open every row.
  afterEach(async () => {
    const users = seededUsers.splice(0);
    if (users.length > 0) await db().deleteFrom('provider_keys').where('user_id', 'in', users).execute();
  });

  it('embedded: adds a key version to the key file, then rewraps every row to it', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'vidgenie-rotate-'));
    const { ring } = await loadOrCreateKeyFile(dataDir, { now: start });
    const saved = await seed(vaultOn(db(), ring), db(), 5);
    const config = loadConfig({ VIDGENIE_DATA_DIR: dataDir });
    const report = await rotateKeys({ config, db: db(), providers, now: () => start, batchSize: 2 });
    expect(report.source).toBe('file');
    expect(report.added?.id).toBe('v2-20250101');
    expect(report.ring.keys.map((key) => key.id)).toEqual(['v1-20250101', 'v2-20250101']);
    expect(report.rewrap).toMatchObject({
      activeKeyId: 'v2-20250101',
      rewrapped: 5,
      complete: true,
      remainingByKeyId: {},
    });
    expect(formatRotateKeysReport(report)).toBe(
      [
        `Added key version "v2-20250101" to ${join(dataDir, 'vault-keys.json')}.`,
        'Re-encrypted 5 stored keys to "v2-20250101" in 3 batches.',
        'Every stored key uses "v2-20250101".',
      ].join('\n'),
    );
    const reloaded = await loadOrCreateKeyFile(dataDir, { now: start });
    const vault = vaultOn(db(), reloaded.ring);
    for (const { userId, key } of saved) {
      expect(await vault.decryptForUse({ userId, providerId: 'alpha', purpose: 'check' })).toBe(key);
    }
    // Run it again (as after a kill): another version, nothing lost.
    const again = await rotateKeys({ config, db: db(), providers, now: () => start });
    expect(again.rewrap).toMatchObject({ rewrapped: 5, failed: 0 });
  });

  it('configured keys: adds nothing, rewraps every row to the last entry of VIDGENIE_ENCRYPTION_KEYS', async () => {
    const env = `e1:${generateVaultKey().toString('base64')},e2:${generateVaultKey().toString('base64')}`;
    const full = parseKeyRing(env);
    const saved = await seed(vaultOn(db(), withoutKeys(full, 'e2')), db(), 4);
    const config = loadConfig({
      VIDGENIE_ENCRYPTION_KEYS: env,
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://x/y',
    });
    const report = await rotateKeys({ config, db: db() });
    expect(report).toMatchObject({ source: 'env', keyFile: undefined, added: undefined });
    expect(report.rewrap).toMatchObject({ activeKeyId: 'e2', rewrapped: 4, complete: true });
    expect(formatRotateKeysReport(report)).toBe(
      [
        'Keys from VIDGENIE_ENCRYPTION_KEYS; the active key is "e2" (the last entry).',
        'Re-encrypted 4 stored keys to "e2" in 1 batch.',
        'Every stored key uses "e2": older entries of VIDGENIE_ENCRYPTION_KEYS can now be removed.',
      ].join('\n'),
    );
    const retired = vaultOn(db(), withoutKeys(full, 'e1'));
    for (const { userId, key } of saved) {
      expect(await retired.decryptForUse({ userId, providerId: 'alpha', purpose: 'check' })).toBe(key);
    }
  });

  it('refuses to run in production with a shared database and no configured keys', async () => {
    const config = loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://x/y' });
    await expect(rotateKeys({ config, db: db() })).rejects.toThrow(/VIDGENIE_ENCRYPTION_KEYS is not set/);
  });

  it('embedded background rewrap rotates the key file once the active key is due, then rewraps', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'vidgenie-bg-'));
    const { ring } = await loadOrCreateKeyFile(dataDir, { now: start, rotationDays: 90 });
    const vault = vaultOn(db(), ring);
    const saved = await seed(vault, db(), 3);
    const { log, lines, next } = recordingLog();
    const rewrapped = next('vault keys rewrapped');
    const stop = startBackgroundRewrap({
      vault,
      intervalMs: 60_000,
      log,
      keyFile: { dataDir, rotationDays: 90 },
      now: () => new Date(start.getTime() + 91 * day),
    });
    await rewrapped;
    await stop();
    expect(lines.map((line) => line.message)).toContain('vault key rotated: rewrapping stored keys');
    expect(vault.ring.keys).toHaveLength(2);
    expect(vault.ring.active.id).toBe('v2-20250402');
    for (const { userId, key } of saved) {
      expect(await vault.decryptForUse({ userId, providerId: 'alpha', purpose: 'check' })).toBe(key);
    }
    const rows = await db().selectFrom('provider_keys').select('key_id').distinct().execute();
    expect(rows.map((row) => row.key_id)).toEqual(['v2-20250402']);
    const events = await listAudit(db(), { subjectUserId: saved[0]!.userId });
    expect(events.map((event) => event.action)).toContain('provider_key.decrypted');
  });
});

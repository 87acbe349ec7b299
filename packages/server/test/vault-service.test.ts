import {
  createOpenAiImageProvider,
  createOpenAiTextProvider,
  createProviderRegistry,
  createStabilityImageProvider,
  localProviders,
  type ProviderRegistry,
} from '@vidgenie/nodes';
import {
  OPENAI_FAKE_KEY,
  type OpenAiFake,
  type StabilityFake,
  startOpenAiFake,
  startStabilityFake,
} from '@vidgenie/nodes/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { listAudit, recordAudit } from '../src/audit/audit-log.ts';
import { ApiError } from '../src/errors/api-error.ts';
import { createProviderKeyVault, type ProviderKeyVault } from '../src/vault/provider-key-vault.ts';
import { countStatements } from './support/count-statements.ts';
import { describeEachDatabase } from './support/test-databases.ts';
import { createUser, keyedProvider, ringOf } from './support/vault-fixtures.ts';

let openai: OpenAiFake;
let stability: StabilityFake;
let providers: ProviderRegistry;
/** A gate the `gated` provider's check waits on, to interleave a save with a test. */
let gate: { opened: Promise<void>; open: () => void; reached: () => void; waiting: Promise<void> };

function newGate() {
  let open!: () => void;
  let reached!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  const waiting = new Promise<void>((resolve) => {
    reached = resolve;
  });
  gate = { opened, open, reached, waiting };
}

beforeAll(async () => {
  openai = await startOpenAiFake();
  stability = await startStabilityFake();
  providers = createProviderRegistry([
    ...localProviders(),
    createOpenAiTextProvider({ baseURL: openai.baseURL }),
    createOpenAiImageProvider({ baseURL: openai.baseURL }),
    createStabilityImageProvider({ baseUrl: stability.url }),
    keyedProvider({
      id: 'slowpoke',
      secret: 'slowpoke',
      label: 'Slowpoke key',
      displayName: 'Slowpoke',
      validateKey: (_key, { signal }) =>
        new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    }),
    keyedProvider({
      id: 'gated',
      secret: 'gated',
      label: 'Gated key',
      validateKey: async () => {
        gate.reached();
        await gate.opened;
        return { valid: true };
      },
    }),
    keyedProvider({ id: 'plain', secret: 'plain', label: 'Plain key' }),
  ]);
});
afterAll(async () => {
  await openai?.close();
  await stability?.close();
});

/** What a promise rejected with (it must reject). */
async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

describeEachDatabase('the provider key vault', ({ db }) => {
  let vault: ProviderKeyVault;
  let tick = 0;
  const clock = () => new Date(Date.UTC(2025, 0, 1) + tick++ * 1000);
  beforeAll(() => {
    vault = createProviderKeyVault({ db: db(), ring: ringOf('k1'), providers, now: clock });
  });

  it('lists the slots providers need: one per key name, shared by providers, none for local ones', () => {
    expect(
      vault
        .slots()
        .map((slot) => [slot.providerId, slot.label, slot.providers.map((p) => p.id), slot.testable]),
    ).toEqual([
      ['openai', 'OpenAI key', ['openai-text', 'openai-image'], true],
      ['stability', 'Stability AI key', ['stability-image'], true],
      ['slowpoke', 'Slowpoke key', ['slowpoke'], true],
      ['gated', 'Gated key', ['gated'], true],
      ['plain', 'Plain key', ['plain'], false],
    ]);
  });

  it('saves a key sealed, lists it masked, and audits the save', async () => {
    const userId = await createUser(db());
    const key = 'sk-proj-save-0123456789-wxyz';
    const saved = await vault.save({
      userId,
      providerId: 'openai',
      key: `  ${key}\n`,
      actorUserId: userId,
      ip: '198.51.100.4',
    });
    expect(saved).toMatchObject({
      providerId: 'openai',
      label: 'OpenAI key',
      lastFour: 'wxyz',
      status: 'unchecked',
      statusReason: null,
      checkedAt: null,
      providers: ['openai-text', 'openai-image'],
    });
    expect(await vault.list(userId)).toEqual([saved]);
    expect(JSON.stringify(saved)).not.toContain(key);
    const row = await db()
      .selectFrom('provider_keys')
      .selectAll()
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow();
    expect(row.key_id).toBe('k1');
    expect(row.ciphertext[0]).toBe(1);
    expect(row.ciphertext.includes(Buffer.from(key))).toBe(false);
    const [event] = await listAudit(db(), { subjectUserId: userId });
    expect(event).toMatchObject({
      actorUserId: userId,
      subjectUserId: userId,
      action: 'provider_key.saved',
      target: 'openai',
      detail: { providerId: 'openai', keyId: 'k1', lastFour: 'wxyz' },
      ip: '198.51.100.4',
    });
    expect(await vault.decryptForUse({ userId, providerId: 'openai', purpose: 'test' })).toBe(key);
  });

  it('replaces a key: one row, the new value, status back to unchecked, audited as a replacement', async () => {
    const userId = await createUser(db());
    await vault.save({ userId, providerId: 'openai', key: OPENAI_FAKE_KEY, actorUserId: userId });
    expect((await vault.test({ userId, providerId: 'openai', actorUserId: userId })).status).toBe('valid');
    const replaced = await vault.save({
      userId,
      providerId: 'openai',
      key: 'sk-replacement-key-9999',
      actorUserId: userId,
    });
    expect(replaced).toMatchObject({
      lastFour: '9999',
      status: 'unchecked',
      statusReason: null,
      checkedAt: null,
    });
    expect(await vault.list(userId)).toHaveLength(1);
    expect(await vault.decryptForUse({ userId, providerId: 'openai', purpose: 'test' })).toBe(
      'sk-replacement-key-9999',
    );
    const actions = (await listAudit(db(), { subjectUserId: userId })).map((event) => event.action);
    expect(actions).toEqual([
      'provider_key.decrypted',
      'provider_key.replaced',
      'provider_key.tested',
      'provider_key.saved',
    ]);
  });

  it('two first saves at once both succeed and leave one row', async () => {
    const userId = await createUser(db());
    const results = await Promise.all(
      ['sk-concurrent-aaaa-0001', 'sk-concurrent-bbbb-0002'].map((key) =>
        vault.save({ userId, providerId: 'stability', key, actorUserId: userId }),
      ),
    );
    expect(results).toHaveLength(2);
    expect(await vault.list(userId)).toHaveLength(1);
    const actions = (await listAudit(db(), { subjectUserId: userId })).map((event) => event.action).sort();
    expect(actions).toEqual(['provider_key.replaced', 'provider_key.saved']);
  });

  it('refuses key names no provider needs, listing the known ones, and malformed keys', async () => {
    const userId = await createUser(db());
    const unknown = await rejection(
      vault.save({ userId, providerId: 'openai-text', key: 'sk-x-123456789', actorUserId: userId }),
    );
    expect(unknown.code).toBe('VALIDATION_FAILED');
    expect(unknown.message).toBe(
      '"openai-text" is not a provider key this server uses. Known keys: openai, stability, slowpoke, gated, plain.',
    );
    expect(unknown.details).toMatchObject({ known: ['openai', 'stability', 'slowpoke', 'gated', 'plain'] });
    const empty = await rejection(
      vault.save({ userId, providerId: 'openai', key: '  ', actorUserId: userId }),
    );
    expect(empty).toMatchObject({ code: 'VALIDATION_FAILED', message: 'Enter your OpenAI key.' });
    const long = `sk-${'z'.repeat(600)}`;
    const tooLong = await rejection(
      vault.save({ userId, providerId: 'openai', key: long, actorUserId: userId }),
    );
    expect(tooLong.code).toBe('VALIDATION_FAILED');
    expect(JSON.stringify(tooLong.toBody())).not.toContain('zzzzzzzz');
    expect(await vault.list(userId)).toEqual([]);
    expect(await listAudit(db(), { subjectUserId: userId })).toEqual([]);
  });

  it('removes a key and audits it; removing again is 404', async () => {
    const userId = await createUser(db());
    await vault.save({ userId, providerId: 'openai', key: 'sk-to-remove-00001234', actorUserId: userId });
    await vault.remove({ userId, providerId: 'openai', actorUserId: userId, ip: '198.51.100.9' });
    expect(await vault.list(userId)).toEqual([]);
    const [event] = await listAudit(db(), { subjectUserId: userId });
    expect(event).toMatchObject({ action: 'provider_key.deleted', target: 'openai', ip: '198.51.100.9' });
    const again = await rejection(vault.remove({ userId, providerId: 'openai', actorUserId: userId }));
    expect(again).toMatchObject({ code: 'NOT_FOUND', message: 'No OpenAI key is saved.' });
  });

  it('tests a key with OpenAI itself: valid, then a rejected key is invalid with a human reason', async () => {
    const userId = await createUser(db());
    await vault.save({ userId, providerId: 'openai', key: OPENAI_FAKE_KEY, actorUserId: userId });
    const calls = openai.counts.get('models.list') ?? 0;
    const valid = await vault.test({ userId, providerId: 'openai', actorUserId: userId, ip: '198.51.100.5' });
    expect(valid).toMatchObject({ status: 'valid', statusReason: 'OpenAI accepted this key.' });
    expect(valid.checkedAt).toBeInstanceOf(Date);
    expect(openai.counts.get('models.list')).toBe(calls + 1);
    expect(openai.log.at(-1)?.authorization).toBe(`Bearer ${OPENAI_FAKE_KEY}`);

    await vault.save({ userId, providerId: 'openai', key: 'sk-revoked-key-000000001', actorUserId: userId });
    const invalid = await vault.test({ userId, providerId: 'openai', actorUserId: userId });
    expect(invalid).toMatchObject({ status: 'invalid', statusReason: 'OpenAI rejected this key.' });
    expect((await vault.list(userId))[0]).toEqual(invalid);
    const tested = (await listAudit(db(), { subjectUserId: userId })).filter(
      (e) => e.action === 'provider_key.tested',
    );
    expect(tested.map((event) => event.detail.status)).toEqual(['invalid', 'valid']);
    expect(tested[1]).toMatchObject({ actorUserId: userId, ip: '198.51.100.5' });
  });

  it('leaves a key unchecked, with a reason, when the provider is down or too slow', async () => {
    const userId = await createUser(db());
    await vault.save({ userId, providerId: 'stability', key: stability.apiKey, actorUserId: userId });
    expect((await vault.test({ userId, providerId: 'stability', actorUserId: userId })).status).toBe('valid');
    stability.inject('balance', {
      kind: 'status',
      status: 503,
      body: { name: 'service_unavailable', errors: ['down'] },
    });
    const down = await vault.test({ userId, providerId: 'stability', actorUserId: userId });
    expect(down.status).toBe('unchecked');
    expect(down.statusReason).toMatch(
      /Stability AI is unavailable right now.*The key could not be checked: try again later\./,
    );

    const quick = createProviderKeyVault({
      db: db(),
      ring: vault.ring,
      providers,
      now: clock,
      testTimeoutMs: 50,
    });
    await quick.save({ userId, providerId: 'slowpoke', key: 'slow-key-0123456789', actorUserId: userId });
    const slow = await quick.test({ userId, providerId: 'slowpoke', actorUserId: userId });
    expect(slow).toMatchObject({
      status: 'unchecked',
      statusReason: 'Slowpoke did not answer within 1 s, so the key could not be checked: try again later.',
    });
  });

  it('says when a key cannot be checked in advance', async () => {
    const userId = await createUser(db());
    await vault.save({ userId, providerId: 'plain', key: 'plain-key-0123456789', actorUserId: userId });
    expect(await vault.test({ userId, providerId: 'plain', actorUserId: userId })).toMatchObject({
      status: 'unchecked',
      statusReason: 'This Plain key cannot be checked in advance: it is used as entered.',
    });
  });

  it('never lets a test of a replaced key overwrite the new key’s status', async () => {
    const userId = await createUser(db());
    await vault.save({ userId, providerId: 'gated', key: 'gated-key-old-00000001', actorUserId: userId });
    newGate();
    const testing = vault.test({ userId, providerId: 'gated', actorUserId: userId });
    await gate.waiting;
    await vault.save({ userId, providerId: 'gated', key: 'gated-key-new-00000002', actorUserId: userId });
    gate.open();
    const conflict = await rejection(testing);
    expect(conflict.code).toBe('CONFLICT');
    expect((await vault.list(userId))[0]).toMatchObject({ lastFour: '0002', status: 'unchecked' });
  });

  it('test without a saved key is 404', async () => {
    const userId = await createUser(db());
    const missing = await rejection(vault.test({ userId, providerId: 'openai', actorUserId: userId }));
    expect(missing).toMatchObject({
      code: 'NOT_FOUND',
      message: 'No OpenAI key is saved: add it in Settings first.',
    });
  });

  it('decrypts for use with an audit event, and says where to add a missing key', async () => {
    const userId = await createUser(db());
    await vault.save({ userId, providerId: 'openai', key: 'sk-use-me-000000000042', actorUserId: userId });
    const key = await vault.decryptForUse({ userId, providerId: 'openai', purpose: 'run', runId: 'run_1' });
    expect(key).toBe('sk-use-me-000000000042');
    const [event] = await listAudit(db(), { subjectUserId: userId });
    expect(event).toMatchObject({
      actorUserId: userId,
      action: 'provider_key.decrypted',
      target: 'openai',
      detail: { providerId: 'openai', keyId: 'k1', purpose: 'run', runId: 'run_1' },
    });
    const missing = await rejection(vault.decryptForUse({ userId, providerId: 'stability', purpose: 'run' }));
    expect(missing).toMatchObject({
      code: 'NOT_FOUND',
      message: 'Add your Stability AI key in Settings to use Stability AI.',
      details: { providerId: 'stability' },
    });
  });

  it('lists made together share statements: each user gets their own keys, in key-name order', async () => {
    const { db: counted, count: statements, reset } = countStatements(db());
    const grouped = createProviderKeyVault({ db: counted, ring: ringOf('k1'), providers, now: clock });
    const users = [await createUser(db()), await createUser(db()), await createUser(db())];
    const [first, second] = users as [string, string, string];
    await grouped.save({ userId: first, providerId: 'stability', key: stability.apiKey, actorUserId: first });
    await grouped.save({
      userId: first,
      providerId: 'openai',
      key: 'sk-listed-0000000001',
      actorUserId: first,
    });
    await grouped.save({
      userId: second,
      providerId: 'openai',
      key: 'sk-listed-0000000002',
      actorUserId: second,
    });
    reset();
    const lists = await Promise.all([...users, ...users].map((userId) => grouped.list(userId)));
    // The first two went at once (two statements in flight at most); the four made meanwhile went together.
    expect(statements()).toBeLessThanOrEqual(3);
    const summary = lists.map((entries) => entries.map((entry) => `${entry.providerId} …${entry.lastFour}`));
    const once = [['openai …0001', `stability …${stability.apiKey.slice(-4)}`], ['openai …0002'], []];
    expect(summary).toEqual([...once, ...once]);
  });

  it('uses made together share one statement: each gets its own key and audit record', async () => {
    const { db: counted, count: statements, reset } = countStatements(db());
    const grouped = createProviderKeyVault({ db: counted, ring: ringOf('k1'), providers, now: clock });
    const users = [await createUser(db()), await createUser(db()), await createUser(db())];
    for (const [i, userId] of users.entries())
      await grouped.save({
        userId,
        providerId: 'openai',
        key: `sk-grouped-${i}-0000000042`,
        actorUserId: userId,
      });
    reset();
    const uses = [...users, ...users].map((userId, i) =>
      grouped.decryptForUse({ userId, providerId: 'openai', purpose: 'run', runId: `run_${i}` }).then(
        (key) => ({ userId, key }),
        (error: unknown) => ({ userId, error }),
      ),
    );
    // One use of a key the user does not have, in the same burst.
    const missing = grouped
      .decryptForUse({ userId: users[0] ?? '', providerId: 'stability', purpose: 'run', runId: 'run_x' })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    const outcomes = await Promise.all(uses);
    for (const [i, outcome] of outcomes.entries())
      expect(outcome).toEqual({ userId: outcome.userId, key: `sk-grouped-${i % 3}-0000000042` });
    expect(await missing).toMatchObject({ code: 'NOT_FOUND', details: { providerId: 'stability' } });
    // The first two went at once (two statements in flight at most); the others made meanwhile
    // went together.
    expect(statements()).toBeLessThanOrEqual(3);
    for (const [i, userId] of users.entries()) {
      const events = await listAudit(db(), { subjectUserId: userId });
      const runs = events
        .filter((event) => event.action === 'provider_key.decrypted')
        .map((event) => (event.detail as { runId?: string }).runId)
        .sort();
      // Each use is recorded once for its own user and run; the missing key is recorded nowhere.
      expect(runs).toEqual([`run_${i}`, `run_${i + 3}`]);
    }
  });

  it('keeps users apart: another user sees, tests, uses and deletes nothing of yours', async () => {
    const alice = await createUser(db());
    const bob = await createUser(db());
    await vault.save({
      userId: alice,
      providerId: 'openai',
      key: 'sk-alice-only-00000001',
      actorUserId: alice,
    });
    expect(await vault.list(bob)).toEqual([]);
    expect((await rejection(vault.test({ userId: bob, providerId: 'openai', actorUserId: bob }))).code).toBe(
      'NOT_FOUND',
    );
    expect(
      (await rejection(vault.decryptForUse({ userId: bob, providerId: 'openai', purpose: 'run' }))).code,
    ).toBe('NOT_FOUND');
    expect(
      (await rejection(vault.remove({ userId: bob, providerId: 'openai', actorUserId: bob }))).code,
    ).toBe('NOT_FOUND');
    expect(await vault.list(alice)).toHaveLength(1);
  });

  it('a ciphertext copied to another user, provider or key id, or altered, does not decrypt', async () => {
    const alice = await createUser(db());
    const mallory = await createUser(db());
    await vault.save({
      userId: alice,
      providerId: 'openai',
      key: 'sk-alice-secret-000001',
      actorUserId: alice,
    });
    const row = await db()
      .selectFrom('provider_keys')
      .selectAll()
      .where('user_id', '=', alice)
      .executeTakeFirstOrThrow();
    const copy = { ...row, id: `${row.id}-copy` };
    await db()
      .insertInto('provider_keys')
      .values({ ...copy, user_id: mallory })
      .execute();
    await db()
      .insertInto('provider_keys')
      .values({ ...copy, id: `${row.id}-copy2`, provider_id: 'stability' })
      .execute();

    const stolen = await rejection(
      vault.decryptForUse({ userId: mallory, providerId: 'openai', purpose: 'run' }),
    );
    expect(stolen).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      message: 'Your OpenAI key could not be decrypted on this server: save it again in Settings.',
    });
    expect(stolen.message).not.toMatch(/tag|auth|iv|cipher/i);
    expect(
      (await rejection(vault.decryptForUse({ userId: alice, providerId: 'stability', purpose: 'run' }))).code,
    ).toBe('SERVICE_UNAVAILABLE');
    // The attempt is recorded with the read, before the opening; the failure follows it.
    const [failure, attempt] = await listAudit(db(), { subjectUserId: mallory });
    expect(attempt).toMatchObject({ action: 'provider_key.decrypted', target: 'openai' });
    expect(failure).toMatchObject({
      action: 'provider_key.decrypt_failed',
      detail: { cause: 'unseal_failed' },
    });

    // The same bytes under another key id of the ring (the id is bound into the AAD).
    const twoKeys = createProviderKeyVault({ db: db(), ring: ringOf('k0', 'k1'), providers, now: clock });
    await db().updateTable('provider_keys').set({ key_id: 'k0' }).where('id', '=', row.id).execute();
    expect(
      (await rejection(twoKeys.decryptForUse({ userId: alice, providerId: 'openai', purpose: 'run' }))).code,
    ).toBe('SERVICE_UNAVAILABLE');
    await db().updateTable('provider_keys').set({ key_id: 'k1' }).where('id', '=', row.id).execute();
    expect(await vault.decryptForUse({ userId: alice, providerId: 'openai', purpose: 'run' })).toBe(
      'sk-alice-secret-000001',
    );

    const altered = Buffer.from(row.ciphertext);
    altered[altered.length - 1] = altered[altered.length - 1]! ^ 0x01;
    await db().updateTable('provider_keys').set({ ciphertext: altered }).where('id', '=', row.id).execute();
    expect(
      (await rejection(vault.decryptForUse({ userId: alice, providerId: 'openai', purpose: 'run' }))).code,
    ).toBe('SERVICE_UNAVAILABLE');
  });

  it('reports rows per key id, the active key age (from first use when undated) and encryptions', async () => {
    let now = new Date('2025-03-01T00:00:00Z');
    const ring = ringOf('stats-k1');
    const statsVault = createProviderKeyVault({
      db: db(),
      ring,
      providers,
      now: () => now,
      rotationDays: 30,
    });
    const userId = await createUser(db());
    await statsVault.save({
      userId,
      providerId: 'openai',
      key: 'sk-stats-000000000001',
      actorUserId: userId,
    });
    await statsVault.save({
      userId,
      providerId: 'stability',
      key: 'sk-stats-000000000002',
      actorUserId: userId,
    });
    const first = await statsVault.keyStats();
    expect(first).toMatchObject({
      activeKeyId: 'stats-k1',
      activeKeyCreatedAt: now,
      activeKeyAgeDays: 0,
      rotationDays: 30,
      rotationDue: false,
      encryptionsByKeyId: { 'stats-k1': 2 },
    });
    expect(first.rowsByKeyId['stats-k1']).toBe(2);
    expect(first.rowsNotOnActiveKey).toBe(first.rowsByKeyId.k1 ?? 0);
    expect(first.unknownKeyIds).toContain('k1');
    now = new Date('2025-04-05T00:00:00Z');
    const later = await statsVault.keyStats();
    expect(later).toMatchObject({
      activeKeyAgeDays: 35,
      rotationDue: true,
      activeKeyCreatedAt: new Date('2025-03-01T00:00:00Z'),
    });
  });

  it('refuses to record secret-named audit details, and lists audit events newest first', async () => {
    const userId = await createUser(db());
    await expect(
      recordAudit(db(), {
        actorUserId: userId,
        subjectUserId: userId,
        action: 'user.oops',
        detail: { nested: { apiKey: 'x' } },
      }),
    ).rejects.toThrow('Audit detail must not hold secrets: "nested.apiKey" refused.');
    for (let i = 0; i < 3; i++) {
      await recordAudit(db(), {
        actorUserId: userId,
        subjectUserId: userId,
        action: 'user.did',
        detail: { i },
        at: new Date(Date.UTC(2025, 0, 1, 0, 0, i)),
      });
    }
    const events = await listAudit(db(), { subjectUserId: userId, limit: 2 });
    expect(events.map((event) => event.detail.i)).toEqual([2, 1]);
    const older = await listAudit(db(), { subjectUserId: userId, before: events[1]!.createdAt });
    expect(older.map((event) => event.detail.i)).toEqual([0]);
  });
});

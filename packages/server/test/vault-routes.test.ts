import {
  createOpenAiImageProvider,
  createOpenAiTextProvider,
  createProviderRegistry,
  localProviders,
} from '@vidgenie/nodes';
import { OPENAI_FAKE_KEY, type OpenAiFake, startOpenAiFake } from '@vidgenie/nodes/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createProviderKeyVault } from '../src/vault/provider-key-vault.ts';
import { describeEachDatabase } from './support/test-databases.ts';
import {
  createUser,
  createVaultTestApp,
  keyedProvider,
  ringOf,
  type VaultTestApp,
} from './support/vault-fixtures.ts';

let openai: OpenAiFake;
beforeAll(async () => {
  openai = await startOpenAiFake();
});
afterAll(async () => {
  await openai?.close();
});

const KEYS = '/api/user/api-keys';

describeEachDatabase('the /api/user/api-keys routes', ({ db }) => {
  let http: VaultTestApp;
  beforeAll(() => {
    const providers = createProviderRegistry([
      ...localProviders(),
      createOpenAiTextProvider({ baseURL: openai.baseURL }),
      createOpenAiImageProvider({ baseURL: openai.baseURL }),
      keyedProvider({ id: 'acme-video', secret: 'acme', label: 'Acme key', displayName: 'Acme Video' }),
    ]);
    http = createVaultTestApp({
      db: db(),
      vault: createProviderKeyVault({ db: db(), ring: ringOf('k1'), providers }),
    });
  });

  it('answer 401 in the one error shape without a session or token', async () => {
    for (const [method, path] of [
      ['GET', KEYS],
      ['PUT', `${KEYS}/openai`],
      ['DELETE', `${KEYS}/openai`],
      ['POST', `${KEYS}/openai/test`],
    ] as const) {
      const response = await http.request(
        undefined,
        method,
        path,
        method === 'PUT' ? { key: 'sk-abc-0123456789' } : undefined,
      );
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
    }
  });

  it('list the empty slots the providers need, then the saved keys masked', async () => {
    const userId = await createUser(db());
    const empty = await http.request(userId, 'GET', KEYS);
    expect(empty.status).toBe(200);
    expect(await empty.json()).toEqual({
      keys: [],
      slots: [
        {
          providerId: 'openai',
          label: 'OpenAI key',
          providers: [
            { id: 'openai-text', displayName: 'OpenAI', kind: 'text' },
            { id: 'openai-image', displayName: 'OpenAI Images', kind: 'image' },
          ],
          testable: true,
        },
        {
          providerId: 'acme',
          label: 'Acme key',
          providers: [{ id: 'acme-video', displayName: 'Acme Video', kind: 'text' }],
          testable: false,
        },
      ],
    });

    const put = await http.request(userId, 'PUT', `${KEYS}/openai`, { key: ' sk-route-key-00000000abcd ' });
    expect(put.status).toBe(200);
    const text = await put.text();
    expect(text).not.toContain('sk-route-key');
    const entry = JSON.parse(text);
    expect(entry).toEqual({
      providerId: 'openai',
      label: 'OpenAI key',
      lastFour: 'abcd',
      status: 'unchecked',
      statusReason: null,
      checkedAt: null,
      updatedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      providers: ['openai-text', 'openai-image'],
    });
    const listed = await (await http.request(userId, 'GET', KEYS)).json();
    expect(listed.keys).toEqual([entry]);
  });

  it('test a key: 200 with the status, a reason and the check time, whatever the provider said', async () => {
    const userId = await createUser(db());
    await http.request(userId, 'PUT', `${KEYS}/openai`, { key: OPENAI_FAKE_KEY });
    const valid = await http.request(userId, 'POST', `${KEYS}/openai/test`);
    expect(valid.status).toBe(200);
    expect(await valid.json()).toMatchObject({
      status: 'valid',
      statusReason: 'OpenAI accepted this key.',
      checkedAt: expect.stringMatching(/T/),
    });
    await http.request(userId, 'PUT', `${KEYS}/openai`, { key: 'sk-wrong-key-000000000' });
    const invalid = await http.request(userId, 'POST', `${KEYS}/openai/test`);
    expect(invalid.status).toBe(200);
    expect(await invalid.json()).toMatchObject({
      status: 'invalid',
      statusReason: 'OpenAI rejected this key.',
    });
    const unchecked = await http.request(userId, 'PUT', `${KEYS}/acme`, { key: 'acme-key-0000000001' });
    expect(unchecked.status).toBe(200);
    expect(await (await http.request(userId, 'POST', `${KEYS}/acme/test`)).json()).toMatchObject({
      status: 'unchecked',
      statusReason: 'This Acme key cannot be checked in advance: it is used as entered.',
    });
  });

  it('delete a key: 204, then 404', async () => {
    const userId = await createUser(db());
    await http.request(userId, 'PUT', `${KEYS}/openai`, { key: 'sk-delete-me-0000000001' });
    const deleted = await http.request(userId, 'DELETE', `${KEYS}/openai`);
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe('');
    const again = await http.request(userId, 'DELETE', `${KEYS}/openai`);
    expect(again.status).toBe(404);
    expect(await again.json()).toEqual({
      error: { code: 'NOT_FOUND', message: 'No OpenAI key is saved.', details: { providerId: 'openai' } },
    });
  });

  it('refuse bad input with 400 VALIDATION_FAILED, never echoing the key', async () => {
    const userId = await createUser(db());
    const cases: [string, unknown, RegExp][] = [
      [`${KEYS}/OpenAI`, { key: 'sk-secret-input-0001' }, /Provider id must be a provider key name/],
      [
        `${KEYS}/openai-text`,
        { key: 'sk-secret-input-0002' },
        /is not a provider key this server uses\. Known keys: openai, acme\./,
      ],
      [`${KEYS}/openai`, {}, /"key"/],
      [`${KEYS}/openai`, { key: '   ' }, /Enter your OpenAI key\./],
      [`${KEYS}/openai`, { key: 'sk-secret input-0003' }, /spaces or invisible characters/],
      [`${KEYS}/openai`, { key: `sk-secret-input-${'9'.repeat(600)}` }, /too long/],
      [`${KEYS}/openai`, { key: `sk-secret-input-${'8'.repeat(5000)}` }, /Key is too long/],
    ];
    for (const [path, body, message] of cases) {
      const response = await http.request(userId, 'PUT', path, body);
      const text = await response.text();
      expect(response.status, text).toBe(400);
      expect(JSON.parse(text).error.code).toBe('VALIDATION_FAILED');
      expect(JSON.parse(text).error.message).toMatch(message);
      expect(text).not.toContain('sk-secret');
    }
    expect((await (await http.request(userId, 'GET', KEYS)).json()).keys).toEqual([]);
  });

  it('scope every route to the caller: another user gets 404s and an empty list', async () => {
    const alice = await createUser(db());
    const bob = await createUser(db());
    await http.request(alice, 'PUT', `${KEYS}/openai`, { key: OPENAI_FAKE_KEY });
    expect((await (await http.request(bob, 'GET', KEYS)).json()).keys).toEqual([]);
    expect((await http.request(bob, 'POST', `${KEYS}/openai/test`)).status).toBe(404);
    expect((await http.request(bob, 'DELETE', `${KEYS}/openai`)).status).toBe(404);
    expect((await (await http.request(alice, 'GET', KEYS)).json()).keys).toHaveLength(1);
  });

  it('are described in the OpenAPI document', () => {
    const doc = http.app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 't', version: '1' } });
    expect(Object.keys(doc.paths ?? {}).sort()).toEqual([
      KEYS,
      `${KEYS}/{providerId}`,
      `${KEYS}/{providerId}/test`,
    ]);
    expect(Object.keys(doc.paths?.[`${KEYS}/{providerId}`] ?? {}).sort()).toEqual(['delete', 'put']);
    expect(doc.components?.schemas).toHaveProperty('ProviderKey');
    expect(JSON.stringify(doc.components?.schemas?.ProviderKey)).not.toMatch(/"key"/);
  });
});

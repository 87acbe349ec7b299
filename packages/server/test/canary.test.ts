import { randomBytes } from 'node:crypto';
import {
  type GeminiFake,
  type OpenAiFake,
  type RunwayFake,
  type StabilityFake,
  startGeminiFake,
  startOpenAiFake,
  startRunwayFake,
  startStabilityFake,
} from '@vidgenie/nodes/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp } from './support/test-app.ts';
import { describeEachDatabase } from './support/test-databases.ts';

const hex = () => randomBytes(12).toString('hex');
const canaries = {
  openai: `sk-canary-${hex()}`,
  openaiRejected: `sk-canary-rejected-${hex()}`,
  stability: `sk-canary-stability-${hex()}`,
  gemini: `AIza-canary-${hex()}`,
  runway: `key_canary_${hex()}`,
};

let openai: OpenAiFake;
let stability: StabilityFake;
let gemini: GeminiFake;
let runway: RunwayFake;
beforeAll(async () => {
  // The OpenAI fake echoes whole keys in its 401 messages: the worst case for scrubbing.
  openai = await startOpenAiFake({ validKeys: [canaries.openai], echoKeyInErrors: true });
  stability = await startStabilityFake({ apiKey: canaries.stability });
  gemini = await startGeminiFake({ apiKey: canaries.gemini });
  runway = await startRunwayFake({ apiKey: canaries.runway });
});
afterAll(async () => {
  await Promise.all([openai?.close(), stability?.close(), gemini?.close(), runway?.close()]);
});

describeEachDatabase('canary keys never leak', ({ database }) => {
  it('appear in no response, log line or column except the ciphertext', async () => {
    const t = await createTestApp(database(), {
      env: {
        OPENAI_BASE_URL: openai.baseURL,
        STABILITY_BASE_URL: stability.url,
        GEMINI_BASE_URL: gemini.url,
        RUNWAY_BASE_URL: runway.url,
      },
    });
    const seen: string[] = [];
    const record = async (response: Response) => {
      seen.push(JSON.stringify([...response.headers.entries()]), await response.clone().text());
      return response;
    };
    const user = await t.signUp();
    const save = (providerId: string, key: string) =>
      user.request('PUT', `/api/user/api-keys/${providerId}`, { key }).then(record);
    const test = (providerId: string) =>
      user.request('POST', `/api/user/api-keys/${providerId}/test`).then(record);

    for (const [providerId, key] of [
      ['openai', canaries.openai],
      ['stability', canaries.stability],
      ['gemini', canaries.gemini],
      ['runway', canaries.runway],
    ] as const) {
      expect((await save(providerId, key)).status).toBe(200);
      const tested = await test(providerId);
      expect(((await tested.json()) as { status: string }).status).toBe('valid');
    }
    // A key the provider rejects: its error (which echoes the key) must be scrubbed.
    expect((await save('openai', canaries.openaiRejected)).status).toBe(200);
    const rejected = await test('openai');
    expect(((await rejected.json()) as { status: string }).status).toBe('invalid');
    // Bad input carrying a key: an unknown provider, a key too long, a malformed body.
    expect((await save('not-a-provider', canaries.openai)).status).toBe(400);
    expect((await save('openai', `${canaries.openai}${'x'.repeat(600)}`)).status).toBe(400);
    expect(
      (await user.request('PUT', '/api/user/api-keys/openai', `{"key":"${canaries.openai}"`).then(record))
        .status,
    ).toBe(400);
    const list = await user.request('GET', '/api/user/api-keys').then(record);
    const listed = await list.text();
    expect(listed).toContain(canaries.gemini.slice(-4));
    // Decrypt for use, as a run would.
    await expect(
      t.services.vault.decryptForUse({ userId: user.id, providerId: 'gemini', purpose: 'canary test' }),
    ).resolves.toBe(canaries.gemini);

    const tables = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'
    `.execute(t.services.db);
    const dump: string[] = [];
    for (const { table_name } of tables.rows) {
      const rows = await sql<{ row: string }>`
        select (to_jsonb(t) - 'ciphertext')::text as row from ${sql.table(table_name)} t
      `.execute(t.services.db);
      dump.push(...rows.rows.map((row) => row.row));
    }
    expect(tables.rows.map((row) => row.table_name)).toEqual(
      expect.arrayContaining(['provider_keys', 'audit_log']),
    );

    const haystacks = { responses: seen.join('\n'), logs: t.logLines.join('\n'), database: dump.join('\n') };
    for (const [name, key] of Object.entries(canaries)) {
      for (const [where, text] of Object.entries(haystacks)) {
        expect(text.includes(key), `${name} canary found in ${where}`).toBe(false);
      }
    }
    // The log did record the key operations (so the scan looked at something).
    expect(t.logLines.length).toBeGreaterThan(0);
    expect(haystacks.database).toContain('provider_key.tested');
  });
});

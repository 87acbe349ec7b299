import { randomBytes } from 'node:crypto';
import {
  createOpenAiImageProvider,
  createOpenAiTextProvider,
  createProviderRegistry,
  createRunwayVideoProvider,
  createStabilityImageProvider,
  createVeoVideoProvider,
  localProviders,
  shortVideoTemplate,
} from '@vidgenie/nodes';
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
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DB } from '../src/db/schema.ts';
import { createTestApp, type TestUser } from './support/test-app.ts';
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

/** Every row of every table as JSON text, without the vault's ciphertext; and the table names. */
async function dumpDatabase(db: Kysely<DB>): Promise<{ tables: string[]; rows: string[] }> {
  const tables = await sql<{ table_name: string }>`
    select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'
  `.execute(db);
  const rows: string[] = [];
  for (const { table_name } of tables.rows) {
    const result = await sql<{ row: string }>`
      select (to_jsonb(t) - 'ciphertext')::text as row from ${sql.table(table_name)} t
    `.execute(db);
    rows.push(...result.rows.map((row) => row.row));
  }
  return { tables: tables.rows.map((row) => row.table_name), rows };
}

/** Fails naming the canary and the haystack it was found in. */
function expectNoCanary(haystacks: Readonly<Record<string, string>>): void {
  for (const [name, key] of Object.entries(canaries)) {
    for (const [where, text] of Object.entries(haystacks)) {
      expect(text.includes(key), `${name} canary found in ${where}`).toBe(false);
    }
  }
}

/** A run's whole SSE stream as text (it ends after the terminal event), from `Last-Event-ID`. */
async function sseText(user: TestUser, runId: string, lastEventId?: string): Promise<string> {
  const response = await user.request(
    'GET',
    `/api/workflow/runs/${runId}/events`,
    undefined,
    lastEventId === undefined ? {} : { 'last-event-id': lastEventId },
  );
  expect(response.status).toBe(200);
  return `${JSON.stringify([...response.headers.entries()])}\n${await response.text()}`;
}

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

    const dump = await dumpDatabase(t.services.db);
    expect(dump.tables).toEqual(expect.arrayContaining(['provider_keys', 'audit_log']));

    const haystacks = {
      responses: seen.join('\n'),
      logs: t.logLines.join('\n'),
      database: dump.rows.join('\n'),
    };
    expectNoCanary(haystacks);
    // The log did record the key operations (so the scan looked at something).
    expect(t.logLines.length).toBeGreaterThan(0);
    expect(haystacks.database).toContain('provider_key.tested');
  });

  it('appear in no run: events (SSE and run_events), status, history, logs, any column', async () => {
    // The hosted providers on the fakes, polling fast (the server's defaults wait 5 s per poll).
    const poll = { pollIntervalMs: 20, maxPollIntervalMs: 50 };
    const t = await createTestApp(database(), {
      providers: createProviderRegistry([
        ...localProviders(),
        createOpenAiTextProvider({ baseURL: openai.baseURL }),
        createOpenAiImageProvider({ baseURL: openai.baseURL }),
        createStabilityImageProvider({ baseUrl: stability.url }),
        createVeoVideoProvider({ baseUrl: gemini.url, ...poll }),
        createRunwayVideoProvider({ baseURL: runway.url, ...poll }),
      ]),
    });
    try {
      const seen: string[] = [];
      const record = async (response: Response) => {
        seen.push(JSON.stringify([...response.headers.entries()]), await response.clone().text());
        return response;
      };
      const user = await t.signUp();
      for (const [providerId, key] of [
        ['openai', canaries.openai],
        ['stability', canaries.stability],
        ['gemini', canaries.gemini],
        ['runway', canaries.runway],
      ] as const) {
        expect((await user.request('PUT', `/api/user/api-keys/${providerId}`, { key })).status).toBe(200);
      }
      const execute = async (graph: unknown) => {
        const accepted = await user.request('POST', '/api/workflow/execute', { graph }).then(record);
        expect(accepted.status).toBe(202);
        return ((await accepted.json()) as { runId: string }).runId;
      };
      /** Follows the run live to its end, then reads its status, its replay and its tail. */
      const follow = async (runId: string) => {
        const live = await sseText(user, runId);
        seen.push(live, await sseText(user, runId, '0'), await sseText(user, runId, '2'));
        // The row is finished just after the terminal event is stored: poll until it is.
        for (let i = 0; ; i++) {
          const response = await user.request('GET', `/api/workflow/status/${runId}`).then(record);
          expect(response.status).toBe(200);
          const status = (await response.json()) as { status: string; error: { message: string } | null };
          if (!['queued', 'running'].includes(status.status)) return { live, status };
          if (i > 600) throw new Error(`run ${runId} still ${status.status} after its terminal event`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      };

      // Every hosted provider with its key: OpenAI text, Stability image, Runway video; then
      // OpenAI image and Veo video.
      const first = await execute(
        shortVideoTemplate({
          prompt: 'a red fox in the snow at dawn',
          textProvider: 'openai-text',
          imageProvider: 'stability-image',
          videoProvider: 'runway-video',
        }),
      );
      const second = await execute(
        shortVideoTemplate({
          prompt: 'a lighthouse in a storm',
          textProvider: 'openai-text',
          imageProvider: 'openai-image',
          videoProvider: 'veo-video',
        }),
      );
      for (const runId of [first, second]) {
        const { live, status } = await follow(runId);
        expect(live).toContain('event: run.completed');
        expect(status.status).toBe('completed');
      }
      expect(runway.log.length).toBeGreaterThan(0);
      expect(gemini.log.length).toBeGreaterThan(0);
      expect(stability.log.length).toBeGreaterThan(0);

      // A key OpenAI rejects, whose 401 message echoes it whole: the run fails on it.
      expect(
        (await user.request('PUT', '/api/user/api-keys/openai', { key: canaries.openaiRejected })).status,
      ).toBe(200);
      const rejected = await execute(
        shortVideoTemplate({ prompt: 'a quiet harbour', textProvider: 'openai-text' }),
      );
      const failed = await follow(rejected);
      expect(failed.live).toContain('event: node.failed');
      expect(failed.live).toContain('event: run.failed');
      expect(failed.status.status).toBe('failed');
      expect(failed.status.error?.message).toMatch(/key/i);
      // Operators get the failure in the log, with its cause chain (the SDK's error, not its message).
      const failureLine = t.logLines.find(
        (line) => line.includes('"node failed"') && line.includes(rejected),
      );
      expect(failureLine).toBeDefined();
      expect(JSON.parse(failureLine ?? '{}')).toMatchObject({
        nodeType: 'enhance',
        causes: [expect.objectContaining({ status: 401 })],
      });
      // The fake did receive the rejected key (and answered with it in its message).
      expect(openai.log.some((entry) => JSON.stringify(entry).includes(canaries.openaiRejected))).toBe(true);

      const history = await user.request('GET', '/api/workflow/runs').then(record);
      expect(((await history.json()) as { runs: unknown[] }).runs).toHaveLength(3);
      // The content library (the two completed runs) and its media, headers and bytes.
      const library = (await (await user.request('GET', '/api/contents').then(record)).json()) as {
        contents: { id: string; media: Record<string, { url: string } | null> }[];
      };
      expect(library.contents).toHaveLength(2);
      for (const content of library.contents) {
        await user.request('GET', `/api/contents/${content.id}`).then(record);
        for (const link of Object.values(content.media)) {
          if (link !== null) await user.request('GET', link.url).then(record);
        }
      }
      const events = await t.services.db
        .selectFrom('run_events')
        .select(['run_id', 'seq', 'type', sql<string>`payload::text`.as('payload')])
        .where('run_id', 'in', [first, second, rejected])
        .execute();
      expect(events.filter((event) => event.run_id === rejected).map((event) => event.type)).toContain(
        'node.failed',
      );
      const dump = await dumpDatabase(t.services.db);
      expect(dump.tables).toEqual(expect.arrayContaining(['runs', 'run_events', 'run_checkpoints']));
      expectNoCanary({
        responses: seen.join('\n'),
        run_events: JSON.stringify(events),
        logs: t.logLines.join('\n'),
        database: dump.rows.join('\n'),
      });
      expect(seen.join('\n')).toContain(rejected);
    } finally {
      await t.services.close();
    }
  });
});

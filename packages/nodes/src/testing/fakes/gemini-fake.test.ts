import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiError, type GenerateVideosOperation, GoogleGenAI } from '@google/genai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type GeminiFake, geminiFaults, startGeminiFake } from './gemini-fake.ts';

const KEY = 'AIza-fake-test-key';
let fake: GeminiFake;
let ai: GoogleGenAI;
const image = { imageBytes: Buffer.from('not really a png').toString('base64'), mimeType: 'image/png' };

beforeEach(async () => {
  fake = await startGeminiFake({ pendingPolls: 1 });
  ai = new GoogleGenAI({ apiKey: KEY, vertexai: false, httpOptions: { baseUrl: fake.url, timeout: 5_000 } });
});
afterEach(async () => {
  await fake.close();
});

describe('startGeminiFake, driven by @google/genai', () => {
  it('lists models with the key, and refuses a wrong key with 400 API_KEY_INVALID', async () => {
    const pager = await ai.models.list({ config: { pageSize: 1 } });
    expect(pager.page.map((m) => m.name)).toContain('models/veo-3.1-generate-001');
    const wrong = new GoogleGenAI({
      apiKey: 'AIza-wrong',
      vertexai: false,
      httpOptions: { baseUrl: fake.url },
    });
    const error = await wrong.models.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(400);
    expect(JSON.parse((error as ApiError).message).error.details[0].reason).toBe('API_KEY_INVALID');
  });

  it('runs an operation to a file that the SDK’s own files.download fetches with the key', async () => {
    let operation: GenerateVideosOperation = await ai.models.generateVideos({
      model: 'veo-3.1-generate-001',
      source: { prompt: 'a fox', image },
      config: { aspectRatio: '9:16', durationSeconds: 6, resolution: '720p', numberOfVideos: 1 },
    });
    expect(operation.name).toMatch(/^models\/veo-3\.1-generate-001\/operations\/[0-9a-f]+$/);
    expect(fake.operations[0]).toMatchObject({
      aspectRatio: '9:16',
      durationSeconds: 6,
      imageMimeType: 'image/png',
    });
    operation = await ai.operations.getVideosOperation({ operation });
    expect(operation.done).toBe(false);
    operation = await ai.operations.getVideosOperation({ operation });
    expect(operation.done).toBe(true);
    const generated = operation.response?.generatedVideos?.[0];
    expect(generated?.video?.uri).toMatch(
      /^https:\/\/generativelanguage\.googleapis\.com\/v1beta\/files\/[a-z0-9]+:download\?alt=media$/,
    );

    const folder = await mkdtemp(join(tmpdir(), 'vidgenie-gemini-fake-'));
    try {
      const downloadPath = join(folder, 'video.mp4');
      await ai.files.download({ file: generated ?? {}, downloadPath });
      const bytes = await readFile(downloadPath);
      expect(bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
      expect(fake.counts.get('files.download')).toBe(1);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
    const anonymous = await fetch(
      `${fake.url}/v1beta/files/${fake.operations[0]?.fileId}:download?alt=media`,
    );
    expect(anonymous.status).toBe(403);
  });

  it('validates like Veo 3 and answers google.rpc.Status errors', async () => {
    const bad = await ai.models
      .generateVideos({
        model: 'veo-3.1-generate-001',
        source: { image },
        config: { durationSeconds: 5 },
      })
      .catch((e: unknown) => e);
    expect((bad as ApiError).status).toBe(400);
    expect(fake.submits).toBe(0);

    fake.inject('predictLongRunning', geminiFaults.rateLimited('12s'));
    const limited = (await ai.models
      .generateVideos({ model: 'veo-3.1-generate-001', source: { image } })
      .catch((e: unknown) => e)) as ApiError;
    expect(limited.status).toBe(429);
    const body = JSON.parse(limited.message);
    expect(body.error.status).toBe('RESOURCE_EXHAUSTED');
    expect(body.error.details.at(-1)).toEqual({
      '@type': 'type.googleapis.com/google.rpc.RetryInfo',
      retryDelay: '12s',
    });
  });

  it('ends operations with safety filtering or an error as queued', async () => {
    fake.queueOutcome(
      { kind: 'filtered', reasons: ['unsafe'] },
      { kind: 'error', code: 3, message: 'bad image' },
    );
    const first = await ai.models.generateVideos({ model: 'veo-3.1-generate-001', source: { image } });
    const second = await ai.models.generateVideos({ model: 'veo-3.1-generate-001', source: { image } });
    await ai.operations.getVideosOperation({ operation: first });
    await ai.operations.getVideosOperation({ operation: second });
    const filtered = await ai.operations.getVideosOperation({ operation: first });
    expect(filtered.response).toMatchObject({
      raiMediaFilteredCount: 1,
      raiMediaFilteredReasons: ['unsafe'],
    });
    const failed = await ai.operations.getVideosOperation({ operation: second });
    expect(failed.error).toEqual({ code: 3, message: 'bad image' });
  });

  it('with jobMs, operations end by time rather than by polls', async () => {
    const slow = await startGeminiFake({ jobMs: 60_000 });
    const instant = await startGeminiFake({ jobMs: 0, pendingPolls: 5 });
    try {
      for (const [server, done] of [
        [slow, false],
        [instant, true],
      ] as const) {
        const client = new GoogleGenAI({
          apiKey: KEY,
          vertexai: false,
          httpOptions: { baseUrl: server.url },
        });
        let operation = await client.models.generateVideos({
          model: 'veo-3.1-generate-001',
          source: { image },
        });
        for (let i = 0; i < 3; i++) operation = await client.operations.getVideosOperation({ operation });
        expect(operation.done === true).toBe(done);
      }
    } finally {
      await Promise.all([slow.close(), instant.close()]);
    }
  });

  it("draws each operation's jobMs from a function, once, at its start", async () => {
    const jobTimes = [60_000, 0];
    let draws = 0;
    const fake = await startGeminiFake({
      jobMs: () => {
        draws++;
        return jobTimes.shift() ?? 0;
      },
    });
    try {
      const client = new GoogleGenAI({ apiKey: KEY, vertexai: false, httpOptions: { baseUrl: fake.url } });
      const start = () => client.models.generateVideos({ model: 'veo-3.1-generate-001', source: { image } });
      const [slow, quick] = [await start(), await start()];
      expect((await client.operations.getVideosOperation({ operation: slow })).done === true).toBe(false);
      expect((await client.operations.getVideosOperation({ operation: quick })).done).toBe(true);
      expect((await client.operations.getVideosOperation({ operation: slow })).done === true).toBe(false);
      expect(draws).toBe(2);
    } finally {
      await fake.close();
    }
  });
});

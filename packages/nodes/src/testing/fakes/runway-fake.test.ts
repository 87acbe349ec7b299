import RunwayML, {
  APIConnectionTimeoutError,
  AuthenticationError,
  BadRequestError,
  NotFoundError,
  RateLimitError,
} from '@runwayml/sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RunwayFake, runwayFaults, startRunwayFake } from './runway-fake.ts';

let fake: RunwayFake;
let client: RunwayML;
const promptImage = 'data:image/png;base64,iVBORw0KGgo=';

beforeEach(async () => {
  fake = await startRunwayFake({ pendingPolls: 1, runningPolls: 2 });
  client = new RunwayML({ apiKey: 'key_test', baseURL: fake.url, maxRetries: 0, timeout: 5_000 });
});
afterEach(async () => {
  await fake.close();
});

describe('startRunwayFake, driven by @runwayml/sdk', () => {
  it('answers the organization with the key, and 401 without it', async () => {
    expect((await client.organization.retrieve()).creditBalance).toBe(12_345);
    const wrong = new RunwayML({ apiKey: 'key_wrong', baseURL: fake.url, maxRetries: 0 });
    await expect(wrong.organization.retrieve()).rejects.toBeInstanceOf(AuthenticationError);
    expect(fake.log.at(-1)?.authorization).toBe('Bearer key_wrong');
    const bare = await fetch(`${fake.url}/v1/organization`, {
      headers: { authorization: 'Bearer key_test' },
    });
    expect(bare.status).toBe(400); // no X-Runway-Version
  });

  it('runs a task PENDING → RUNNING (growing progress) → SUCCEEDED with a downloadable MP4', async () => {
    const { id } = await client.imageToVideo.create({
      model: 'gen4_turbo',
      promptImage,
      promptText: 'a fox',
      ratio: '720:1280',
      duration: 5,
    });
    expect(fake.submits).toBe(1);
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push(await client.tasks.retrieve(id));
    expect(seen.map((t) => t.status)).toEqual(['PENDING', 'RUNNING', 'RUNNING', 'SUCCEEDED']);
    expect(seen.map((t) => ('progress' in t ? t.progress : undefined))).toEqual([
      undefined,
      0.333,
      0.667,
      undefined,
    ]);
    const done = seen[3];
    if (done?.status !== 'SUCCEEDED') throw new Error('not done');
    const response = await fetch(done.output[0] ?? '');
    expect(response.headers.get('content-type')).toBe('video/mp4');
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect(new TextDecoder().decode(bytes.slice(4, 8))).toBe('ftyp');
    expect((await fetch(`${fake.url}/outputs/${id}.mp4`)).status).toBe(403); // unsigned
  });

  it('validates requests like Runway', async () => {
    const bad = [
      { model: 'gen4_turbo', promptImage, ratio: '1080:1920', duration: 5 },
      { model: 'gen4_turbo', promptImage, ratio: '720:1280', duration: 11 },
      { model: 'gen4_turbo', promptImage: 'http://example.com/a.png', ratio: '720:1280', duration: 5 },
      { model: 'gen9', promptImage, ratio: '720:1280', duration: 5 },
    ];
    for (const body of bad) {
      await expect(client.imageToVideo.create(body as never)).rejects.toBeInstanceOf(BadRequestError);
    }
    expect(fake.submits).toBe(0);
  });

  it('cancels a running task and deletes a finished one', async () => {
    const { id } = await client.imageToVideo.create({
      model: 'gen4_turbo',
      promptImage,
      ratio: '720:1280',
      duration: 5,
    });
    await client.tasks.delete(id);
    expect((await client.tasks.retrieve(id)).status).toBe('CANCELLED');
    await client.tasks.delete(id);
    await expect(client.tasks.retrieve(id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('ends tasks as queued, and injects faults', async () => {
    fake.queueOutcome({ kind: 'fail', failureCode: 'SAFETY.INPUT.IMAGE', failure: 'Image rejected.' });
    const { id } = await client.imageToVideo.create({
      model: 'gen4_turbo',
      promptImage,
      ratio: '720:1280',
      duration: 5,
    });
    for (let i = 0; i < 3; i++) await client.tasks.retrieve(id);
    expect(await client.tasks.retrieve(id)).toMatchObject({
      status: 'FAILED',
      failureCode: 'SAFETY.INPUT.IMAGE',
    });

    fake.inject('image_to_video', runwayFaults.rateLimited(3));
    const error = await client.imageToVideo
      .create({ model: 'gen4_turbo', promptImage, ratio: '720:1280', duration: 5 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).headers.get('retry-after')).toBe('3');
    expect(fake.counts.get('image_to_video')).toBe(2);
  });

  it('with jobMs, tasks end by time rather than by polls; latencyMs slows the routes it names', async () => {
    const create = (c: RunwayML) =>
      c.imageToVideo.create({ model: 'gen4_turbo', promptImage, ratio: '720:1280', duration: 5 });
    const slow = await startRunwayFake({ jobMs: 60_000, latencyMs: { organization: 1_000 } });
    const instant = await startRunwayFake({ jobMs: 0 });
    try {
      const slowClient = new RunwayML({
        apiKey: 'key_test',
        baseURL: slow.url,
        maxRetries: 0,
        timeout: 5_000,
      });
      const { id } = await create(slowClient);
      const statuses = [];
      for (let i = 0; i < 6; i++) statuses.push((await slowClient.tasks.retrieve(id)).status);
      expect(statuses).toEqual(Array(6).fill('PENDING'));
      const hurried = new RunwayML({ apiKey: 'key_test', baseURL: slow.url, maxRetries: 0, timeout: 50 });
      await expect(hurried.organization.retrieve()).rejects.toBeInstanceOf(APIConnectionTimeoutError);

      const instantClient = new RunwayML({ apiKey: 'key_test', baseURL: instant.url, maxRetries: 0 });
      const task = await create(instantClient);
      expect((await instantClient.tasks.retrieve(task.id)).status).toBe('SUCCEEDED');
    } finally {
      await Promise.all([slow.close(), instant.close()]);
    }
  });

  it("draws each task's jobMs and each answer's latency from functions (a spread of times)", async () => {
    const jobTimes = [60_000, 0];
    const routes: string[] = [];
    const fake = await startRunwayFake({
      jobMs: () => jobTimes.shift() ?? 0,
      latencyMs: (route) => {
        routes.push(route);
        return route === 'organization' ? 1_000 : 0;
      },
    });
    try {
      const client = new RunwayML({ apiKey: 'key_test', baseURL: fake.url, maxRetries: 0, timeout: 5_000 });
      const create = () =>
        client.imageToVideo.create({ model: 'gen4_turbo', promptImage, ratio: '720:1280', duration: 5 });
      const first = await create();
      const second = await create();
      // Drawn once per task, at its creation: the first runs a minute, the second is done.
      expect((await client.tasks.retrieve(first.id)).status).toBe('PENDING');
      expect((await client.tasks.retrieve(second.id)).status).toBe('SUCCEEDED');
      expect((await client.tasks.retrieve(first.id)).status).toBe('PENDING');
      const hurried = new RunwayML({ apiKey: 'key_test', baseURL: fake.url, maxRetries: 0, timeout: 50 });
      await expect(hurried.organization.retrieve()).rejects.toBeInstanceOf(APIConnectionTimeoutError);
      expect(routes).toEqual([
        'image_to_video',
        'image_to_video',
        'tasks.retrieve',
        'tasks.retrieve',
        'tasks.retrieve',
        'organization',
      ]);
    } finally {
      await fake.close();
    }
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shortVideoTemplate } from '@vidgenie/nodes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/server-config.ts';
import { type ConfiguredBlobStore, createBlobStore } from '../src/contents/create-blob-store.ts';
import { startTestS3, type TestS3 } from './support/s3rver.ts';
import { createTestApp, type TestApp, type TestUser } from './support/test-app.ts';
import { describeEachDatabase } from './support/test-databases.ts';

const BUCKET = 'vidgenie-contents';
let s3: TestS3;
let endpoint: string;
/** A store of its own on the bucket, to look at the objects independently of the app's. */
let raw: ConfiguredBlobStore;

const s3Env = () => s3.env;

beforeAll(async () => {
  s3 = await startTestS3(BUCKET);
  endpoint = s3.endpoint;
  raw = createBlobStore(loadConfig(s3Env()));
});
afterAll(async () => {
  await raw?.dispose();
  await s3?.close();
});

const exists = async (key: string) => (await raw.blobs.stat({ key })) !== undefined;

describe('createBlobStore', () => {
  it('uses files without S3_BUCKET, S3 with it, and wants both S3 credentials or neither', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'vidgenie-blob-config-'));
    const fs = createBlobStore(loadConfig({ VIDGENIE_DATA_DIR: dataDir }));
    expect(fs.kind).toBe('fs');
    const info = await fs.blobs.put({ key: 'a/b.txt', body: new Uint8Array([1]), mimeType: 'text/plain' });
    expect(await fs.blobs.localPath({ key: info.key })).toBe(join(dataDir, 'media', 'a', 'b.txt'));
    await fs.dispose();
    await rm(dataDir, { recursive: true, force: true });

    const s3 = createBlobStore(loadConfig(s3Env()));
    expect(s3.kind).toBe('s3');
    await s3.blobs.put({ key: 'config-test/x.txt', body: new Uint8Array([1, 2]), mimeType: 'text/plain' });
    expect(await exists('config-test/x.txt')).toBe(true);
    await s3.dispose();

    expect(() => createBlobStore(loadConfig({ S3_BUCKET: BUCKET, S3_ACCESS_KEY_ID: 'only-the-id' }))).toThrow(
      ConfigError,
    );
    expect(() => loadConfig({ S3_ENDPOINT: 'not a url' })).toThrow(ConfigError);
    expect(() => loadConfig({ VIDGENIE_MEDIA_DELIVERY: 'teleport' })).toThrow(ConfigError);
    expect(loadConfig({ S3_FORCE_PATH_STYLE: 'true' }).S3_FORCE_PATH_STYLE).toBe(true);
  });
});

interface LibraryContent {
  id: string;
  runId: string;
  media: { video: { url: string } };
}

async function waitForRunEnd(user: TestUser, runId: string, timeoutMs = 90_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const body = (await (await user.request('GET', `/api/workflow/status/${runId}`)).json()) as {
      status: string;
    };
    if (!['queued', 'running'].includes(body.status)) return body.status;
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${body.status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describeEachDatabase('content library on S3 (s3rver)', ({ database }) => {
  let t: TestApp;
  /** The same installation delivering media by redirect (the default with S3), and behind a CDN. */
  let redirecting: TestApp;
  let behindCdn: TestApp;
  beforeAll(async () => {
    t = await createTestApp(database(), { env: { ...s3Env(), VIDGENIE_MEDIA_DELIVERY: 'proxy' } });
    redirecting = await createTestApp(database(), { env: s3Env() });
    behindCdn = await createTestApp(database(), {
      env: { ...s3Env(), VIDGENIE_CDN_BASE_URL: 'https://media.example.net/v' },
    });
  });
  afterAll(async () => {
    await Promise.all([t, redirecting, behindCdn].map((app) => app?.services.close()));
  });

  it('refuses redirect delivery without S3: files on disk cannot be presigned', async () => {
    await expect(createTestApp(database(), { env: { VIDGENIE_MEDIA_DELIVERY: 'redirect' } })).rejects.toThrow(
      /VIDGENIE_MEDIA_DELIVERY: redirect needs S3_BUCKET/,
    );
  });

  it('stores run media in the bucket, serves it whole and by range, and deletes it with the content', async () => {
    const user = await t.signUp();
    const accepted = await user.request('POST', '/api/workflow/execute', {
      graph: shortVideoTemplate({ durationSeconds: 8 }),
      initialPrompt: 'a kite over the dunes',
    });
    const { runId } = (await accepted.json()) as { runId: string };
    expect(await waitForRunEnd(user, runId)).toBe('completed');
    let content: LibraryContent | undefined;
    for (let i = 0; i < 200 && content === undefined; i++) {
      const page = (await (await user.request('GET', '/api/contents')).json()) as {
        contents: LibraryContent[];
      };
      content = page.contents.find((c) => c.runId === runId);
      if (content === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (content === undefined) throw new Error('no content recorded');
    const keys = await t.services.db
      .selectFrom('contents')
      .select(['image_key', 'video_key', 'thumbnail_key'])
      .where('id', '=', content.id)
      .executeTakeFirstOrThrow();
    const videoKey = keys.video_key as string;
    // The media is in the bucket.
    for (const key of [keys.image_key, keys.video_key, keys.thumbnail_key]) {
      expect(await exists(key as string), key as string).toBe(true);
    }
    expect((await raw.blobs.stat({ key: videoKey }))?.mimeType).toBe('video/mp4');
    const stored = Buffer.from(await raw.blobs.getBytes({ key: videoKey }));

    const full = await user.request('GET', content.media.video.url);
    expect(full.status).toBe(200);
    expect(full.headers.get('content-type')).toBe('video/mp4');
    expect(full.headers.get('content-length')).toBe(String(stored.length));
    expect(Buffer.from(await full.arrayBuffer()).equals(stored)).toBe(true);
    const part = await user.request('GET', content.media.video.url, undefined, { range: 'bytes=100-199' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${stored.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(stored.subarray(100, 200))).toBe(true);
    const past = await user.request('GET', content.media.video.url, undefined, {
      range: `bytes=${stored.length + 1}-`,
    });
    expect(past.status).toBe(416);

    // Another user: 404 on the bucket-backed route as well.
    const other = await t.signUp();
    expect((await other.request('GET', content.media.video.url)).status).toBe(404);

    // Redirect delivery: after the owner check, a 302 to a presigned bucket URL that serves the
    // same bytes, ranges and disposition; the CSP lets the page load media from that origin only.
    const as = (app: TestApp, who: TestUser, path: string) =>
      app.app.request(path, { headers: { cookie: who.cookie } });
    const redirect = await as(redirecting, user, `${content.media.video.url}?download=1`);
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('cache-control')).toBe('private, no-store');
    const location = new URL(redirect.headers.get('location') as string);
    expect(location.origin).toBe(endpoint);
    expect(location.searchParams.get('X-Amz-Expires')).toBe('300');
    expect(location.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(redirect.headers.get('content-security-policy')).toContain(`media-src 'self' blob: ${endpoint}`);
    const fromBucket = await fetch(location);
    expect(fromBucket.status).toBe(200);
    expect(fromBucket.headers.get('content-disposition')).toMatch(
      /^attachment; filename="vidgenie-.*-video\.mp4"$/,
    );
    expect(Buffer.from(await fromBucket.arrayBuffer()).equals(stored)).toBe(true);
    const rangeFromBucket = await fetch(location, { headers: { range: 'bytes=100-199' } });
    expect(rangeFromBucket.status).toBe(206);
    expect(Buffer.from(await rangeFromBucket.arrayBuffer()).equals(stored.subarray(100, 200))).toBe(true);
    expect((await as(redirecting, other, content.media.video.url)).status).toBe(404);
    // Behind a CDN: the same signed path and query, on the CDN's origin.
    const viaCdn = await as(behindCdn, user, content.media.video.url);
    const cdnLocation = new URL(viaCdn.headers.get('location') as string);
    expect(cdnLocation.origin).toBe('https://media.example.net');
    expect(cdnLocation.pathname).toBe(`/v/${BUCKET}/${videoKey}`);
    expect(cdnLocation.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(viaCdn.headers.get('content-security-policy')).toContain('https://media.example.net');

    expect((await user.request('DELETE', `/api/contents/${content.id}`)).status).toBe(204);
    for (const key of [keys.image_key, keys.video_key, keys.thumbnail_key]) {
      expect(await exists(key as string), key as string).toBe(false);
    }
  });
});

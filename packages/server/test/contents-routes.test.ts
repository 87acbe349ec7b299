import { shortVideoTemplate } from '@vidgenie/nodes';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { recordContent } from '../src/contents/record-content.ts';
import { createTestApp, type TestApp, type TestUser } from './support/test-app.ts';
import { describeEachDatabase } from './support/test-databases.ts';

interface MediaLink {
  url: string;
  downloadUrl: string;
}
interface ContentBody {
  id: string;
  runId: string;
  prompt: string;
  enhancedPrompt: string | null;
  media: { video: MediaLink | null; image: MediaLink | null; thumbnail: MediaLink | null };
  durationSeconds: number | null;
  width: number | null;
  height: number | null;
  fileSizeBytes: number;
  costCredits: number;
  providers: { text: string | null; image: string | null; video: string | null };
  createdAt: string;
}
interface RunBody {
  status: string;
  cost: { captured: number };
  outputs: Record<string, unknown>;
}
interface MediaRef {
  key: string;
  bytes: number;
}

/** Polls the status route until the run has ended. */
async function waitForRunEnd(user: TestUser, runId: string, timeoutMs = 90_000): Promise<RunBody> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const body = (await (
      await user.request('GET', `/api/workflow/status/${runId}`).then(ok)
    ).json()) as RunBody;
    if (!['queued', 'running'].includes(body.status)) return body;
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${body.status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The content of a run, once the run-ended listener (after the run's final status) has recorded it. */
async function waitForContent(user: TestUser, runId: string, timeoutMs = 10_000): Promise<ContentBody> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const page = await (await user.request('GET', '/api/contents?limit=100').then(ok)).json();
    const found = (page as { contents: ContentBody[] }).contents.find((content) => content.runId === runId);
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no content for run ${runId}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function ok(response: Response): Promise<Response> {
  if (response.status !== 200) throw new Error(`${response.status}: ${await response.text()}`);
  return response;
}

const readBytes = async (response: Response) => new Uint8Array(await response.arrayBuffer());

describeEachDatabase('content library', ({ database }) => {
  let t: TestApp;
  let a: TestUser;
  /** A's first content and its run, shared by the tests below (they run in order). */
  let first: ContentBody;
  let firstRun: RunBody;
  beforeAll(async () => {
    t = await createTestApp(database());
    a = await t.signUp();
  });
  afterAll(async () => {
    await t?.services.close();
  });

  it('records one content per completed run, with prompts, metadata, cost, providers and media links', async () => {
    const accepted = await a.request('POST', '/api/workflow/execute', {
      graph: shortVideoTemplate({ durationSeconds: 8 }),
      initialPrompt: 'a lighthouse in a storm',
    });
    expect(accepted.status).toBe(202);
    const { runId } = (await accepted.json()) as { runId: string };
    firstRun = await waitForRunEnd(a, runId);
    expect(firstRun.status).toBe('completed');
    first = await waitForContent(a, runId);

    const output = firstRun.outputs.output as { video: MediaRef; bytes: number; durationSeconds: number };
    const enhance = firstRun.outputs.enhance as { prompt: string };
    const providers = t.services.providers;
    expect(first).toMatchObject({
      runId,
      prompt: 'a lighthouse in a storm',
      enhancedPrompt: enhance.prompt,
      width: 720,
      height: 1280,
      durationSeconds: output.durationSeconds,
      fileSizeBytes: output.bytes,
      costCredits: firstRun.cost.captured,
      providers: {
        text: providers.ofKind('text')[0]?.id,
        image: providers.ofKind('image')[0]?.id,
        video: providers.ofKind('video')[0]?.id,
      },
    });
    expect(first.costCredits).toBeGreaterThan(0);
    expect(first.fileSizeBytes).toBeGreaterThan(10_000);
    for (const kind of ['video', 'image', 'thumbnail'] as const) {
      expect(first.media[kind]).toEqual({
        url: `/api/contents/${first.id}/media/${kind}`,
        downloadUrl: `/api/contents/${first.id}/media/${kind}?download=1`,
      });
    }
    // URLs, never blob keys.
    expect(JSON.stringify(first)).not.toContain('runs/');

    const one = await a.request('GET', `/api/contents/${first.id}`);
    expect(one.status).toBe(200);
    expect(await one.json()).toEqual(first);

    // A second report of the same run's end (a resumed run) records nothing more.
    await recordContent(
      { db: t.services.db, providers },
      {
        runId,
        userId: a.id,
        status: 'completed',
        outcome: {
          status: 'completed',
          runId,
          outputs: firstRun.outputs,
          cost: { estimated: 0, reserved: 0, captured: 0, released: 0, saved: 0 },
        },
      },
    );
    const rows = await t.services.db
      .selectFrom('contents')
      .select('id')
      .where('run_id', '=', runId)
      .execute();
    expect(rows).toEqual([{ id: first.id }]);
  });

  it('streams the media with type, length, disposition and HTTP ranges (206, 416)', async () => {
    const output = firstRun.outputs.output as { video: MediaRef; thumbnail: MediaRef };
    const stored = await t.services.media.blobs.getBytes({ key: output.video.key });
    const size = stored.byteLength;
    const url = first.media.video?.url as string;

    const full = await a.request('GET', url);
    expect(full.status).toBe(200);
    expect(full.headers.get('content-type')).toBe('video/mp4');
    expect(full.headers.get('content-length')).toBe(String(size));
    expect(full.headers.get('accept-ranges')).toBe('bytes');
    expect(full.headers.get('content-disposition')).toBe(`inline; filename="vidgenie-${first.id}-video.mp4"`);
    expect(full.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await readBytes(full)).equals(Buffer.from(stored))).toBe(true);
    expect(size).toBe(first.fileSizeBytes);

    const expectRange = async (header: string, start: number, end: number) => {
      const response = await a.request('GET', url, undefined, { range: header });
      expect(response.status, header).toBe(206);
      expect(response.headers.get('content-range'), header).toBe(`bytes ${start}-${end}/${size}`);
      expect(response.headers.get('content-length'), header).toBe(String(end - start + 1));
      const body = await readBytes(response);
      expect(Buffer.from(body).equals(Buffer.from(stored.subarray(start, end + 1))), header).toBe(true);
    };
    await expectRange('bytes=0-99', 0, 99);
    await expectRange('bytes=1000-', 1000, size - 1);
    await expectRange('bytes=-10', size - 10, size - 1);
    await expectRange(`bytes=${size - 5}-${size + 1000}`, size - 5, size - 1);
    // Several ranges: the whole file (a server may ignore Range).
    const multi = await a.request('GET', url, undefined, { range: 'bytes=0-1,5-6' });
    expect(multi.status).toBe(200);
    expect((await readBytes(multi)).byteLength).toBe(size);

    const past = await a.request('GET', url, undefined, { range: `bytes=${size}-` });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${size}`);
    expect(((await past.json()) as { error: { code: string } }).error.code).toBe('RANGE_NOT_SATISFIABLE');

    const download = await a.request('GET', first.media.video?.downloadUrl as string);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toBe(
      `attachment; filename="vidgenie-${first.id}-video.mp4"`,
    );
    await download.body?.cancel();

    const thumbnail = await a.request('GET', first.media.thumbnail?.url as string);
    expect(thumbnail.status).toBe(200);
    expect(thumbnail.headers.get('content-type')).toBe('image/png');
    const png = await readBytes(thumbnail);
    expect(Buffer.from(png.subarray(0, 4)).toString('hex')).toBe('89504e47');
    expect(png.byteLength).toBe(output.thumbnail.bytes);
    const image = await a.request('GET', first.media.image?.url as string);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');
    await image.body?.cancel();

    expect((await a.request('GET', `/api/contents/${first.id}/media/audio`)).status).toBe(400);

    // HEAD: the same headers, no body.
    const head = await a.request('HEAD', url, undefined, { range: 'bytes=0-9' });
    expect(head.status).toBe(206);
    expect(head.headers.get('content-length')).toBe('10');
    expect(head.headers.get('content-range')).toBe(`bytes 0-9/${size}`);
    expect(await head.text()).toBe('');
  });

  it("never lets user B read, download or delete A's content (404, as for an unknown id)", async () => {
    const b = await t.signUp();
    for (const [method, path] of [
      ['GET', `/api/contents/${first.id}`],
      ['GET', `/api/contents/${first.id}/media/video`],
      ['GET', `/api/contents/${first.id}/media/thumbnail?download=1`],
      ['DELETE', `/api/contents/${first.id}`],
      ['GET', '/api/contents/cnt_unknown'],
      ['GET', '/api/contents/cnt_unknown/media/video'],
      ['DELETE', '/api/contents/cnt_unknown'],
    ] as const) {
      const response = await b.request(method, path, undefined, { range: 'bytes=0-10' });
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    }
    const listed = (await (await b.request('GET', '/api/contents')).json()) as { contents: unknown[] };
    expect(listed.contents).toEqual([]);
    // A's content and media are intact.
    expect(await (await a.request('GET', `/api/contents/${first.id}`)).json()).toEqual(first);
    const video = await a.request('GET', first.media.video?.url as string, undefined, { range: 'bytes=0-3' });
    expect(video.status).toBe(206);
    await video.body?.cancel();
    // Without credentials: 401.
    expect((await t.request('GET', first.media.video?.url as string)).status).toBe(401);
  });

  it("deletes a content and its media, keeping a rerun's shared parent image until the last content using it goes", async () => {
    const blobs = t.services.media.blobs;
    const rerun = await a.request('POST', `/api/workflow/runs/${first.runId}/rerun`, { fromNodeId: 'video' });
    expect(rerun.status).toBe(202);
    const { runId: rerunId } = (await rerun.json()) as { runId: string };
    expect((await waitForRunEnd(a, rerunId)).status).toBe('completed');
    const second = await waitForContent(a, rerunId);
    const keysOf = (contentId: string) =>
      t.services.db
        .selectFrom('contents')
        .select(['image_key', 'video_key', 'thumbnail_key'])
        .where('id', '=', contentId)
        .executeTakeFirstOrThrow();
    const parentKeys = await keysOf(first.id);
    const rerunKeys = await keysOf(second.id);
    // "Same image, new video": the image is the parent's blob, the rest the rerun's own.
    expect(rerunKeys.image_key).toBe(parentKeys.image_key);
    expect(rerunKeys.video_key).not.toBe(parentKeys.video_key);
    expect(second.prompt).toBe('a lighthouse in a storm');

    const deleted = await a.request('DELETE', `/api/contents/${first.id}`);
    expect(deleted.status).toBe(204);
    expect(await blobs.stat({ key: parentKeys.video_key as string })).toBeUndefined();
    expect(await blobs.stat({ key: parentKeys.thumbnail_key as string })).toBeUndefined();
    expect(await blobs.stat({ key: parentKeys.image_key as string })).toBeDefined();
    expect((await a.request('GET', `/api/contents/${first.id}`)).status).toBe(404);
    expect((await a.request('GET', `/api/contents/${first.id}/media/video`)).status).toBe(404);
    expect((await a.request('DELETE', `/api/contents/${first.id}`)).status).toBe(404);
    // The rerun's content still shows the shared image.
    const image = await a.request('GET', second.media.image?.url as string);
    expect(image.status).toBe(200);
    expect((await readBytes(image)).byteLength).toBeGreaterThan(0);
    expect(
      t.logLines.some((line) => line.includes('"content deleted"') && line.includes('"blobsKept":1')),
    ).toBe(true);

    expect((await a.request('DELETE', `/api/contents/${second.id}`)).status).toBe(204);
    for (const key of [rerunKeys.image_key, rerunKeys.video_key, rerunKeys.thumbnail_key]) {
      expect(await blobs.stat({ key: key as string }), key as string).toBeUndefined();
    }
    const listed = (await (await a.request('GET', '/api/contents')).json()) as { contents: unknown[] };
    expect(listed.contents).toEqual([]);
    // The runs themselves stay (the history keeps them).
    expect((await a.request('GET', `/api/workflow/status/${first.runId}`)).status).toBe(200);
  });

  it('pages the library newest first with an opaque cursor', async () => {
    const user = await t.signUp();
    const base = Date.UTC(2030, 0, 1);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const runId = `run_page_${i}_${Math.random().toString(36).slice(2)}`;
      await t.services.db
        .insertInto('runs')
        .values({
          id: runId,
          user_id: user.id,
          graph: '{"version":1,"nodes":[],"edges":[]}',
          estimated_cost: 0,
        })
        .execute();
      const id = `cnt_page_${i}_${Math.random().toString(36).slice(2)}`;
      ids.push(id);
      await t.services.db
        .insertInto('contents')
        .values({
          id,
          user_id: user.id,
          run_id: runId,
          prompt: `idea ${i}`,
          enhanced_prompt: null,
          image_key: `runs/${runId}/image.png`,
          video_key: null,
          thumbnail_key: null,
          duration_seconds: null,
          width: 10,
          height: 20,
          file_size_bytes: 3,
          cost_credits: 1,
          text_provider_id: null,
          image_provider_id: 'local-image',
          video_provider_id: null,
          // The last two share a timestamp: the id breaks the tie.
          created_at: new Date(base + Math.min(i, 3) * 1000),
        })
        .execute();
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      const page = (await (await user.request('GET', `/api/contents?limit=2${query}`).then(ok)).json()) as {
        contents: ContentBody[];
        nextCursor: string | null;
      };
      seen.push(...page.contents.map((content) => content.id));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([ids[4], ids[3], ids[2], ids[1], ids[0]]);
    const image = (await (await user.request('GET', `/api/contents/${ids[0]}`)).json()) as ContentBody;
    expect(image.media).toMatchObject({ video: null, thumbnail: null });
    expect(image.media.image?.url).toBe(`/api/contents/${ids[0]}/media/image`);
    // The blob was never written: 404, not a 500.
    expect((await user.request('GET', `/api/contents/${ids[0]}/media/image`)).status).toBe(404);
    expect((await user.request('GET', `/api/contents/${ids[0]}/media/video`)).status).toBe(404);
    expect((await user.request('GET', '/api/contents?cursor=bm9wZQ')).status).toBe(400);
    expect((await user.request('GET', '/api/contents?limit=0')).status).toBe(400);
  });

  it('records nothing for cancelled runs, runs without media, or a user who does not own the run', async () => {
    const user = await t.signUp();
    const runId = `run_nomedia_${Math.random().toString(36).slice(2)}`;
    await t.services.db
      .insertInto('runs')
      .values({
        id: runId,
        user_id: user.id,
        graph: JSON.stringify(shortVideoTemplate({ prompt: 'x' })),
        estimated_cost: 0,
      })
      .execute();
    const cost = { estimated: 0, reserved: 0, captured: 0, released: 0, saved: 0 };
    const options = { db: t.services.db, providers: t.services.providers };
    const image = { key: `runs/${runId}/image.png`, mimeType: 'image/png', bytes: 1, width: 1, height: 1 };
    await recordContent(options, {
      runId,
      userId: user.id,
      status: 'cancelled',
      outcome: { status: 'cancelled', runId, reason: 'no', outputs: { image: { image } }, cost },
    });
    await recordContent(options, {
      runId,
      userId: user.id,
      status: 'completed',
      outcome: { status: 'completed', runId, outputs: { prompt: { prompt: 'x' } }, cost },
    });
    await recordContent(options, {
      runId,
      userId: a.id,
      status: 'completed',
      outcome: { status: 'completed', runId, outputs: { image: { image } }, cost },
    });
    const rows = await t.services.db
      .selectFrom('contents')
      .select('id')
      .where('run_id', '=', runId)
      .execute();
    expect(rows).toEqual([]);
    // An image-only run (no video node ran) is a content too.
    await recordContent(options, {
      runId,
      userId: user.id,
      status: 'completed',
      outcome: { status: 'completed', runId, outputs: { prompt: { prompt: 'x' }, image: { image } }, cost },
    });
    const row = await t.services.db
      .selectFrom('contents')
      .selectAll()
      .where('run_id', '=', runId)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      prompt: 'x',
      image_key: image.key,
      video_key: null,
      duration_seconds: null,
      width: 1,
      height: 1,
      file_size_bytes: 1,
    });
  });
});

import { shortVideoTemplate } from '@vidgenie/nodes';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CONTROLLED_VIDEO, controlledProviders } from './support/controlled-video.ts';
import { startTestS3, type TestS3 } from './support/s3rver.ts';
import { createTestApp, type TestApp, type TestUser } from './support/test-app.ts';
import { describeEachDatabase } from './support/test-databases.ts';

interface NodeStatus {
  nodeId: string;
  status: string;
  cost: number;
  output: unknown;
}
interface RunBody {
  status: string;
  nodes: NodeStatus[];
  outputs: Record<string, unknown>;
}
interface ImageOutput {
  image: { key: string; mimeType: string; bytes: number; width: number; height: number };
}

const status = async (user: TestUser, runId: string): Promise<RunBody> => {
  const response = await user.request('GET', `/api/workflow/status/${runId}`);
  expect(response.status).toBe(200);
  return (await response.json()) as RunBody;
};

/** Polls the status route until `done` holds (or the run ended without it: then fails). */
async function waitFor(user: TestUser, runId: string, done: (run: RunBody) => boolean): Promise<RunBody> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const run = await status(user, runId);
    if (done(run)) return run;
    if (!['queued', 'running'].includes(run.status)) throw new Error(`run ${runId} ended ${run.status}`);
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${run.status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const nodeOf = (run: RunBody, nodeId: string) => run.nodes.find((node) => node.nodeId === nodeId);
/** A node's output as `T` (the status route's `output` is untyped). */
const outputOf = <T>(run: RunBody, nodeId: string): T => nodeOf(run, nodeId)?.output as T;
const ended = (run: RunBody) => !['queued', 'running'].includes(run.status);
const mediaPath = (runId: string, nodeId: string, port: string) =>
  `/api/workflow/runs/${runId}/nodes/${nodeId}/media/${port}`;
const bytesOf = async (response: Response) => new Uint8Array(await response.arrayBuffer());
const errorOf = async (response: Response) =>
  ((await response.json()) as { error: { code: string; message: string } }).error;

describeEachDatabase("a node's media while its run runs and after", ({ database }) => {
  // The controlled video provider holds the video step until released: the run is still running
  // when the image is asked for.
  const { providers, control } = controlledProviders();
  control.mode = 'hold';
  let t: TestApp;
  let a: TestUser;
  let b: TestUser;
  /** A's run, its image node's reference and the image's bytes in the blob store. */
  let runId: string;
  let image: ImageOutput['image'];
  let stored: Uint8Array;

  beforeAll(async () => {
    t = await createTestApp(database(), { providers });
    a = await t.signUp();
    b = await t.signUp();
  });
  afterAll(async () => {
    control.mode = 'render';
    control.release();
    await t?.services.close();
  });

  it('serves the image node’s picture to its owner while the video step is still running', async () => {
    const accepted = await a.request('POST', '/api/workflow/execute', {
      graph: shortVideoTemplate({ videoProvider: CONTROLLED_VIDEO, durationSeconds: 8 }),
      initialPrompt: 'a lighthouse in a storm',
    });
    expect(accepted.status).toBe(202);
    ({ runId } = (await accepted.json()) as { runId: string });
    const midRun = await waitFor(a, runId, (run) => nodeOf(run, 'image')?.status === 'completed');
    // The provider holds the video step: the run has not ended.
    expect(midRun.status).toBe('running');
    expect(nodeOf(midRun, 'video')?.status).not.toBe('completed');
    image = outputOf<ImageOutput>(midRun, 'image').image;
    expect(image.key.startsWith(`users/${a.id}/runs/${runId}/`)).toBe(true);
    stored = await t.services.media.blobs.getBytes({ key: image.key });

    const response = await a.request('GET', mediaPath(runId, 'image', 'image'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(image.mimeType);
    expect(image.mimeType).toBe('image/png');
    expect(response.headers.get('content-length')).toBe(String(stored.length));
    expect(response.headers.get('accept-ranges')).toBe('bytes');
    expect(response.headers.get('content-disposition')).toBe(
      `inline; filename="vidgenie-${runId}-image-image.png"`,
    );
    expect(response.headers.get('cache-control')).toBe('private, max-age=300');
    const body = await bytesOf(response);
    expect(body.length).toBe(image.bytes);
    expect(body).toEqual(stored);
    // A real PNG.
    expect([...body.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
  });

  it('answers a Range with 206, a range past the end with 416, ?download=1 as an attachment', async () => {
    const partial = await a.request('GET', mediaPath(runId, 'image', 'image'), undefined, {
      range: 'bytes=0-99',
    });
    expect(partial.status).toBe(206);
    expect(partial.headers.get('content-range')).toBe(`bytes 0-99/${stored.length}`);
    expect(partial.headers.get('content-length')).toBe('100');
    expect(await bytesOf(partial)).toEqual(stored.subarray(0, 100));

    const tail = await a.request('GET', mediaPath(runId, 'image', 'image'), undefined, {
      range: `bytes=${stored.length - 10}-`,
    });
    expect(tail.status).toBe(206);
    expect(await bytesOf(tail)).toEqual(stored.subarray(stored.length - 10));

    const beyond = await a.request('GET', mediaPath(runId, 'image', 'image'), undefined, {
      range: `bytes=${stored.length + 5}-`,
    });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${stored.length}`);
    expect((await errorOf(beyond)).code).toBe('RANGE_NOT_SATISFIABLE');

    const saved = await a.request('GET', `${mediaPath(runId, 'image', 'image')}?download=1`);
    expect(saved.status).toBe(200);
    expect(saved.headers.get('content-disposition')).toBe(
      `attachment; filename="vidgenie-${runId}-image-image.png"`,
    );
    expect(await bytesOf(saved)).toEqual(stored);
  });

  it('answers another user exactly as an unknown run: 404, and never the file', async () => {
    const theirs = await b.request('GET', mediaPath(runId, 'image', 'image'));
    const unknown = await a.request('GET', mediaPath('run_does_not_exist', 'image', 'image'));
    expect(theirs.status).toBe(404);
    expect(unknown.status).toBe(404);
    const [theirError, unknownError] = [await errorOf(theirs), await errorOf(unknown)];
    expect(theirError).toEqual(unknownError);
    expect(theirError.code).toBe('NOT_FOUND');
    expect(theirs.headers.get('content-type')).toContain('application/json');
  });

  it('answers 404 naming the node and port for an unknown node, a node without media there, or a node not done yet', async () => {
    const cases = [
      ['nope', 'image'], // no such node
      ['enhance', 'prompt'], // a text output, not a media reference
      ['prompt', 'image'], // no such port
      ['image', 'thumbnail'], // the image node has no thumbnail
      ['video', 'video'], // still held by the provider
    ] as const;
    for (const [nodeId, port] of cases) {
      const response = await a.request('GET', mediaPath(runId, nodeId, port));
      expect(response.status, `${nodeId}/${port}`).toBe(404);
      const error = await errorOf(response);
      expect(error.code).toBe('NOT_FOUND');
      expect(error.message).toContain(`"${nodeId}"`);
      expect(error.message).toContain(`"${port}"`);
    }
    // A malformed port is a validation error, not a lookup.
    expect((await a.request('GET', mediaPath(runId, 'image', 'im%20age'))).status).toBe(400);
  });

  it('answers 401 without credentials', async () => {
    const response = await t.request('GET', mediaPath(runId, 'image', 'image'));
    expect(response.status).toBe(401);
    expect(await bytesOf(response)).not.toEqual(stored);
  });

  it('refuses a recorded key outside the owner’s prefix (defence in depth)', async () => {
    // B's own run, whose image node's record is made to point at A's picture.
    const runOfB = `run_prefix_${Math.random().toString(36).slice(2)}`;
    await t.services.db
      .insertInto('runs')
      .values({ id: runOfB, user_id: b.id, graph: '{"version":1,"nodes":[],"edges":[]}', estimated_cost: 0 })
      .execute();
    const record = {
      nodeId: 'image',
      status: 'completed',
      attempt: 1,
      cost: 0,
      captured: true,
      output: { image },
    };
    const runRecord = { runId: runOfB, status: 'completed', version: 1, lastSeq: 0 };
    await sql`insert into run_checkpoints (run_id, format_version, status, record)
              values (${runOfB}, 1, 'completed', ${JSON.stringify(runRecord)}::json)`.execute(t.services.db);
    await t.services.db
      .insertInto('node_checkpoints')
      .values({
        run_id: runOfB,
        node_id: 'image',
        status: 'completed',
        record: JSON.stringify(record),
      })
      .execute();
    const response = await b.request('GET', mediaPath(runOfB, 'image', 'image'));
    expect(response.status).toBe(404);
    expect((await errorOf(response)).code).toBe('NOT_FOUND');
  });

  it('keeps serving after the run ends, the video node’s video too', async () => {
    control.mode = 'render';
    control.release();
    const done = await waitFor(a, runId, ended);
    expect(done.status).toBe('completed');
    const picture = await a.request('GET', mediaPath(runId, 'image', 'image'));
    expect(picture.status).toBe(200);
    expect(await bytesOf(picture)).toEqual(stored);
    const video = await a.request('GET', mediaPath(runId, 'video', 'video'), undefined, {
      range: 'bytes=0-1023',
    });
    expect(video.status).toBe(206);
    expect(video.headers.get('content-type')).toBe('video/mp4');
    expect((await bytesOf(video)).length).toBe(1024);
  });

  it("serves a rerun's reused image node: its parent's picture, recorded in the rerun's node output", async () => {
    const accepted = await a.request('POST', `/api/workflow/runs/${runId}/rerun`, { fromNodeId: 'video' });
    expect(accepted.status).toBe(202);
    const { runId: rerunId } = (await accepted.json()) as { runId: string };
    const done = await waitFor(a, rerunId, ended);
    expect(done.status).toBe('completed');
    const reused = nodeOf(done, 'image');
    expect(reused?.cost).toBe(0);
    expect(outputOf<ImageOutput>(done, 'image').image.key).toBe(image.key);
    const response = await a.request('GET', mediaPath(rerunId, 'image', 'image'));
    expect(response.status).toBe(200);
    expect(await bytesOf(response)).toEqual(stored);
    // The new video is the rerun's own.
    const video = outputOf<{ video: { key: string } }>(done, 'video').video;
    expect(video.key.startsWith(`users/${a.id}/runs/${rerunId}/`)).toBe(true);
    expect((await b.request('GET', mediaPath(rerunId, 'image', 'image'))).status).toBe(404);
  });
});

describeEachDatabase("a node's media on S3, delivered by redirect (s3rver)", ({ database }) => {
  const bucket = 'vidgenie-node-media';
  let s3: TestS3;
  let endpoint: string;
  let t: TestApp;
  let a: TestUser;

  beforeAll(async () => {
    s3 = await startTestS3(bucket);
    endpoint = s3.endpoint;
    t = await createTestApp(database(), { env: s3.env });
    a = await t.signUp();
  });
  afterAll(async () => {
    await t?.services.close();
    await s3?.close();
  });

  it('redirects the owner to a presigned URL serving the picture inline; others get 404', async () => {
    const accepted = await a.request('POST', '/api/workflow/execute', {
      graph: shortVideoTemplate({ durationSeconds: 8 }),
      initialPrompt: 'a red fox in the snow',
    });
    expect(accepted.status).toBe(202);
    const { runId } = (await accepted.json()) as { runId: string };
    const run = await waitFor(a, runId, (body) => nodeOf(body, 'image')?.status === 'completed');
    const { key } = outputOf<ImageOutput>(run, 'image').image;

    const redirect = await a.request('GET', mediaPath(runId, 'image', 'image'));
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('cache-control')).toBe('private, no-store');
    const location = new URL(redirect.headers.get('location') as string);
    expect(location.origin).toBe(endpoint);
    expect(location.pathname).toBe(`/${bucket}/${key}`);
    expect(location.searchParams.get('X-Amz-Expires')).toBe('300');
    const fromBucket = await fetch(location);
    expect(fromBucket.status).toBe(200);
    expect(fromBucket.headers.get('content-type')).toBe('image/png');
    expect(fromBucket.headers.get('content-disposition')).toBe(
      `inline; filename="vidgenie-${runId}-image-image.png"`,
    );
    expect(await bytesOf(fromBucket)).toEqual(await t.services.media.blobs.getBytes({ key }));

    const other = await t.signUp();
    const denied = await other.request('GET', mediaPath(runId, 'image', 'image'));
    expect(denied.status).toBe(404);
    expect(denied.headers.get('location')).toBeNull();
    await waitFor(a, runId, ended);
  });
});

import { CREDIT_PRICES, shortVideoTemplate } from '@vidgenie/nodes';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestUser } from './support/test-app.ts';
import { describeEachDatabase } from './support/test-databases.ts';

interface StatusBody {
  status: string;
  estimatedCost: number;
  estimatedDurationSeconds: number | null;
  parentRunId: string | null;
  rerunFrom: string | null;
  cost: { reserved: number; captured: number; released: number | null };
  nodes: { nodeId: string; status: string; cost: number }[];
  outputs: Record<string, { key?: string; image?: { key: string }; video?: { key: string } }>;
}

async function waitForEnd(user: TestUser, runId: string, timeoutMs = 60_000): Promise<StatusBody> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const body = (await (await user.request('GET', `/api/workflow/status/${runId}`)).json()) as StatusBody;
    if (!['queued', 'running'].includes(body.status)) return body;
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${body.status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const eightSeconds = CREDIT_PRICES.enhance + CREDIT_PRICES.image.medium + CREDIT_PRICES.video[8];

describeEachDatabase('workflow rerun from a node', ({ database }) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(database());
  });
  afterAll(async () => {
    await t?.services.close();
  });

  it('"same image, new video": holds and charges only the video, reuses the image output (same blob key)', async () => {
    const user = await t.signUp();
    const accepted = await user.request('POST', '/api/workflow/execute', {
      graph: shortVideoTemplate({ durationSeconds: 8 }),
      initialPrompt: 'a heron at dusk',
    });
    const { runId: firstId } = (await accepted.json()) as { runId: string };
    // Not ended yet: no rerun of a running run.
    const early = await user.request('POST', `/api/workflow/runs/${firstId}/rerun`, { fromNodeId: 'video' });
    expect([202, 409]).toContain(early.status);
    const first = await waitForEnd(user, firstId);
    expect(first.status).toBe('completed');
    let charged = first.cost.captured;
    if (early.status === 202) {
      // The first run ended before the request: its rerun is a valid run too.
      charged += (await waitForEnd(user, ((await early.json()) as { runId: string }).runId)).cost.captured;
    }

    const unknown = await user.request('POST', `/api/workflow/runs/${firstId}/rerun`, { fromNodeId: 'nope' });
    expect(unknown.status).toBe(400);

    const rerun = await user.request('POST', `/api/workflow/runs/${firstId}/rerun`, { fromNodeId: 'video' });
    expect(rerun.status).toBe(202);
    const started = (await rerun.json()) as {
      runId: string;
      estimatedCost: number;
      estimatedDurationSeconds: number;
    };
    expect(started.estimatedCost).toBe(CREDIT_PRICES.video[8]);
    expect(started.estimatedDurationSeconds).toBe(3); // video 2 s + output 1 s; the rest is reused
    const second = await waitForEnd(user, started.runId);
    expect(second.status).toBe('completed');
    expect(second).toMatchObject({ parentRunId: firstId, rerunFrom: 'video' });
    expect(Object.fromEntries(second.nodes.map((node) => [node.nodeId, [node.status, node.cost]]))).toEqual({
      prompt: ['completed', 0],
      enhance: ['completed', 0],
      image: ['completed', 0],
      video: ['completed', CREDIT_PRICES.video[8]],
      output: ['completed', 0],
    });
    expect(second.cost).toEqual({
      reserved: CREDIT_PRICES.video[8],
      captured: CREDIT_PRICES.video[8],
      released: 0,
    });
    const imageKey = (out: StatusBody) => (out.outputs.image as { image: { key: string } }).image.key;
    expect(imageKey(second)).toBe(imageKey(first));
    const videoKey = (out: StatusBody) => (out.outputs.video as { video: { key: string } }).video.key;
    expect(videoKey(second)).not.toBe(videoKey(first));
    const balance = (await (await user.request('GET', '/api/credits/balance')).json()) as {
      balance: number;
      held: number;
    };
    expect(eightSeconds).toBe(first.cost.captured);
    expect(balance).toMatchObject({ balance: 100 - charged - CREDIT_PRICES.video[8], held: 0 });

    // Another user cannot rerun it.
    const other = await t.signUp();
    expect(
      (await other.request('POST', `/api/workflow/runs/${firstId}/rerun`, { fromNodeId: 'video' })).status,
    ).toBe(404);
  });
});

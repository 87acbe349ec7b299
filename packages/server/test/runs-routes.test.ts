import { CREDIT_PRICES, shortVideoTemplate } from '@vidgenie/nodes';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestUser } from './support/test-app.ts';
import { describeEachDatabase } from './support/test-databases.ts';

interface SseMessage {
  readonly id: string;
  readonly event: string;
  readonly data: Record<string, unknown>;
}

/** Reads a whole SSE response (the stream ends after the run's terminal event). */
async function readSse(response: Response, timeoutMs = 60_000): Promise<SseMessage[]> {
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  const deadline = setTimeout(() => void reader.cancel('timed out'), timeoutMs);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    clearTimeout(deadline);
  }
  return text
    .split('\n\n')
    .filter((block) => block.split('\n').some((line) => line.startsWith('data:')))
    .map((block) => {
      const field = (name: string) =>
        block
          .split('\n')
          .filter((line) => line.startsWith(`${name}:`))
          .map((line) => line.slice(name.length + 1).trimStart())
          .join('\n');
      return { id: field('id'), event: field('event'), data: JSON.parse(field('data')) };
    });
}

interface StatusBody {
  status: string;
  estimatedCost: number;
  cost: { reserved: number; captured: number; released: number | null };
  nodes: { nodeId: string; status: string; cost: number; output: unknown; progress: number }[];
  outputs: Record<string, unknown>;
  graph: { version: number; nodes: { id: string; type: string; config?: Record<string, unknown> }[] };
  lastEventSeq: number;
  startedAt: string | null;
  finishedAt: string | null;
}

/** Polls the status route until the run has ended. */
async function waitForEnd(user: TestUser, runId: string, timeoutMs = 60_000): Promise<StatusBody> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await user.request('GET', `/api/workflow/status/${runId}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as StatusBody;
    if (!['queued', 'running'].includes(body.status)) return body;
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${body.status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const balanceOf = async (user: TestUser) =>
  (await (await user.request('GET', '/api/credits/balance')).json()) as {
    balance: number;
    held: number;
    available: number;
  };

const eightSeconds = CREDIT_PRICES.enhance + CREDIT_PRICES.image.medium + CREDIT_PRICES.video[8];

describeEachDatabase('workflow runs', ({ database }) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(database());
  });
  afterAll(async () => {
    await t?.services.close();
  });

  it('runs the template: 202, live events gap-free to the end, every node completed, charged the node prices', async () => {
    const user = await t.signUp();
    const accepted = await user.request('POST', '/api/workflow/execute', {
      graph: shortVideoTemplate({ durationSeconds: 8 }),
      initialPrompt: 'a red fox in the snow at dawn',
    });
    expect(accepted.status).toBe(202);
    const { runId, estimatedCost, status } = (await accepted.json()) as {
      runId: string;
      estimatedCost: number;
      status: string;
    };
    expect(status).toBe('queued');
    expect(estimatedCost).toBe(eightSeconds);

    // Followed from the start: replay, then live, ending after the terminal event.
    const events = await readSse(await user.request('GET', `/api/workflow/runs/${runId}/events`));
    expect(events.map((event) => Number(event.id))).toEqual(events.map((_, i) => i + 1));
    expect(events.at(-1)?.event).toBe('run.completed');
    expect(events[0]?.event).toBe('run.started');
    for (const event of events)
      expect(event.data).toMatchObject({ type: event.event, seq: Number(event.id), runId });

    const run = await waitForEnd(user, runId);
    expect(run.status).toBe('completed');
    expect(run.startedAt).not.toBeNull();
    expect(run.finishedAt).not.toBeNull();
    expect(run.lastEventSeq).toBe(events.length);
    // The graph it ran, with the initial prompt applied: what a canvas reopens.
    const template = shortVideoTemplate({ durationSeconds: 8 });
    expect(run.graph.nodes.map((node) => node.id)).toEqual(template.nodes.map((node) => node.id));
    expect(run.graph.nodes.find((node) => node.type === 'prompt')?.config).toMatchObject({
      text: 'a red fox in the snow at dawn',
    });
    expect(run.nodes.map((node) => [node.nodeId, node.status])).toEqual([
      ['prompt', 'completed'],
      ['enhance', 'completed'],
      ['image', 'completed'],
      ['video', 'completed'],
      ['output', 'completed'],
    ]);
    expect(Object.fromEntries(run.nodes.map((node) => [node.nodeId, node.cost]))).toEqual({
      prompt: 0,
      enhance: CREDIT_PRICES.enhance,
      image: CREDIT_PRICES.image.medium,
      video: CREDIT_PRICES.video[8],
      output: 0,
    });
    const output = run.outputs.output as {
      video: { key: string; mimeType: string };
      thumbnail: { key: string };
      original: string;
      durationSeconds: number;
    };
    expect(output.video.key).toMatch(new RegExp(`^users/${user.id}/runs/${runId}/`));
    expect(output.video.mimeType).toBe('video/mp4');
    expect(output.thumbnail.key).toMatch(/\.png$/);
    expect(output.original).toBe('a red fox in the snow at dawn');
    expect(output.durationSeconds).toBeGreaterThan(7);
    expect(JSON.stringify(run)).not.toContain('data:');
    expect(run.cost).toEqual({ reserved: eightSeconds, captured: eightSeconds, released: 0 });

    const balance = await balanceOf(user);
    expect(balance).toMatchObject({ balance: 100 - eightSeconds, held: 0, available: 100 - eightSeconds });

    // Reconnecting with Last-Event-ID: N gives only what follows N; ?after= does the same.
    const resumed = await readSse(
      await user.request('GET', `/api/workflow/runs/${runId}/events`, undefined, { 'last-event-id': '3' }),
    );
    expect(resumed.map((event) => Number(event.id))).toEqual(
      events.slice(3).map((event) => Number(event.id)),
    );
    const tail = await readSse(
      await user.request('GET', `/api/workflow/runs/${runId}/events?after=${events.length - 1}`),
    );
    expect(tail.map((event) => event.event)).toEqual(['run.completed']);
    const none = await readSse(
      await user.request('GET', `/api/workflow/runs/${runId}/events`, undefined, {
        'last-event-id': String(events.length),
      }),
    );
    expect(none).toEqual([]);
    const bad = await user.request('GET', `/api/workflow/runs/${runId}/events`, undefined, {
      'last-event-id': 'x',
    });
    expect(bad.status).toBe(400);

    // The history has it; another user sees none of it.
    const history = (await (await user.request('GET', '/api/workflow/runs')).json()) as {
      runs: { runId: string; status: string; estimatedCost: number }[];
    };
    expect(history.runs[0]).toMatchObject({ runId, status: 'completed', estimatedCost: eightSeconds });
    const other = await t.signUp();
    expect((await other.request('GET', `/api/workflow/status/${runId}`)).status).toBe(404);
    expect((await other.request('GET', `/api/workflow/runs/${runId}/events`)).status).toBe(404);
    expect((await other.request('POST', `/api/workflow/runs/${runId}/cancel`)).status).toBe(404);
    const othersHistory = (await (await other.request('GET', '/api/workflow/runs')).json()) as {
      runs: unknown[];
    };
    expect(othersHistory.runs).toEqual([]);
  });

  it('cancels a running run: it ends cancelled, only finished nodes are charged, nothing stays held', async () => {
    const user = await t.signUp();
    const accepted = await user.request('POST', '/api/workflow/execute', {
      graph: shortVideoTemplate({ prompt: 'a lighthouse in a storm', durationSeconds: 15 }),
    });
    expect(accepted.status).toBe(202);
    const { runId } = (await accepted.json()) as { runId: string };
    const cancel = await user.request('POST', `/api/workflow/runs/${runId}/cancel`);
    expect(cancel.status).toBe(202);
    expect(['running', 'cancelled']).toContain(((await cancel.json()) as { status: string }).status);
    const run = await waitForEnd(user, runId);
    expect(run.status).toBe('cancelled');
    const events = await readSse(await user.request('GET', `/api/workflow/runs/${runId}/events`));
    expect(events.map((event) => Number(event.id))).toEqual(events.map((_, i) => i + 1));
    expect(events.at(-1)?.event).toBe('run.cancelled');
    const charged = run.nodes.reduce((sum, node) => sum + node.cost, 0);
    expect(run.cost.captured).toBe(charged);
    expect(await balanceOf(user)).toMatchObject({ balance: 100 - charged, held: 0 });
    // Cancelling an ended run changes nothing.
    const again = await user.request('POST', `/api/workflow/runs/${runId}/cancel`);
    expect(((await again.json()) as { status: string }).status).toBe('cancelled');

    // History pages, newest first.
    await user.request('POST', '/api/workflow/execute', { graph: { version: 1, nodes: [], edges: [] } });
    const first = (await (await user.request('GET', '/api/workflow/runs?limit=1')).json()) as {
      runs: { runId: string }[];
      nextCursor: string | null;
    };
    expect(first.runs).toHaveLength(1);
    expect(first.runs[0]?.runId).not.toBe(runId);
    expect(first.nextCursor).not.toBeNull();
    const second = (await (
      await user.request('GET', `/api/workflow/runs?limit=1&cursor=${first.nextCursor}`)
    ).json()) as { runs: { runId: string }[]; nextCursor: string | null };
    expect(second.runs.map((r) => r.runId)).toEqual([runId]);
    expect(second.nextCursor).toBeNull();
    expect((await user.request('GET', '/api/workflow/runs?cursor=nope')).status).toBe(400);
  });

  it('answers 400 GRAPH_INVALID with every issue and its node ids', async () => {
    const user = await t.signUp();
    const graph = shortVideoTemplate({ prompt: 'x' });
    const nodes = graph.nodes.map((node) =>
      node.id === 'video' ? { ...node, config: { ...node.config, durationSeconds: 7 } } : node,
    );
    const response = await user.request('POST', '/api/workflow/execute', {
      graph: { ...graph, nodes: [...nodes, { id: 'mystery', type: 'no-such-type' }] },
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as {
      error: { code: string; details: { issues: { code: string; nodeId?: string }[] } };
    };
    expect(body.error.code).toBe('GRAPH_INVALID');
    expect(body.error.details.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'INVALID_CONFIG', nodeId: 'video' }),
        expect.objectContaining({ code: 'UNKNOWN_NODE_TYPE', nodeId: 'mystery' }),
      ]),
    );
    expect(
      await t.services.db.selectFrom('runs').select('id').where('user_id', '=', user.id).execute(),
    ).toEqual([]);
  });

  it('answers 400 naming the provider whose key is missing', async () => {
    const user = await t.signUp();
    const response = await user.request('POST', '/api/workflow/execute', {
      graph: shortVideoTemplate({ prompt: 'x', textProvider: 'openai-text' }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as {
      error: {
        code: string;
        message: string;
        details: { keys: { providerId: string; nodeIds: string[] }[] };
      };
    };
    expect(body.error.code).toBe('VALIDATION_FAILED');
    expect(body.error.message).toMatch(/Add your OpenAI key in Settings/);
    expect(body.error.details.keys).toEqual([
      expect.objectContaining({ providerId: 'openai', nodeIds: ['enhance'] }),
    ]);
    expect((await balanceOf(user)).held).toBe(0);
  });

  it('answers 402 with required and available when the credits do not cover the estimate, and stores no run', async () => {
    const user = await t.signUp();
    await t.services.ledger.reserve({
      userId: user.id,
      runId: `drain-${user.id}`,
      amount: 95,
      expiresInMs: 60_000,
    });
    const response = await user.request('POST', '/api/workflow/execute', {
      graph: shortVideoTemplate({ prompt: 'x', durationSeconds: 8 }),
    });
    expect(response.status).toBe(402);
    const body = (await response.json()) as { error: { code: string; details: unknown } };
    expect(body.error).toMatchObject({
      code: 'INSUFFICIENT_CREDITS',
      details: { required: eightSeconds, available: 5 },
    });
    expect(
      await t.services.db.selectFrom('runs').select('id').where('user_id', '=', user.id).execute(),
    ).toEqual([]);
    expect(await balanceOf(user)).toMatchObject({ held: 95 });
  });
});

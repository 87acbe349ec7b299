import { CREDIT_PRICES, shortVideoTemplate } from '@vidgenie/nodes';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { estimateRunSeconds } from '../src/runs/estimate-duration.ts';
import { createTestApp, type TestApp, type TestUser } from './support/test-app.ts';
import { describeEachDatabase } from './support/test-databases.ts';

/** prompt → enhance on the local text provider: charged, fast, no ffmpeg. */
const enhanceOnly = (text: string) => ({
  version: 1,
  nodes: [
    { id: 'prompt', type: 'prompt', config: { text } },
    { id: 'enhance', type: 'enhance', config: {} },
  ],
  edges: [{ id: 'p-e', source: 'prompt', sourceHandle: 'prompt', target: 'enhance', targetHandle: 'prompt' }],
});

const execute = (user: TestUser, body: unknown, key?: string) =>
  user.request('POST', '/api/workflow/execute', body, key === undefined ? {} : { 'idempotency-key': key });

describeEachDatabase('workflow execute: Idempotency-Key and estimates', ({ database }) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(database());
  });
  afterAll(async () => {
    await t?.services.close();
  });

  const runsOf = async (user: TestUser) =>
    t.services.db.selectFrom('runs').select('id').where('user_id', '=', user.id).execute();
  const holdsOf = async (user: TestUser) =>
    t.services.db
      .selectFrom('credit_holds')
      .select(['run_id', 'amount'])
      .where('user_id', '=', user.id)
      .execute();
  const keysOf = async (user: TestUser) =>
    t.services.db.selectFrom('idempotency_keys').select('key').where('user_id', '=', user.id).execute();

  it('same key and body: the same run, byte for byte, with no second run or hold; another body: 409', async () => {
    const user = await t.signUp();
    const body = { graph: enhanceOnly('a fox'), initialPrompt: 'a red fox' };
    const first = await execute(user, body, 'key-1');
    expect(first.status).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const firstText = await first.text();
    // The same body with its keys in another order is the same request.
    const second = await execute(user, { initialPrompt: 'a red fox', graph: body.graph }, 'key-1');
    expect(second.status).toBe(202);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(await second.text()).toBe(firstText);
    const { runId, estimatedCost } = JSON.parse(firstText) as { runId: string; estimatedCost: number };
    expect(estimatedCost).toBe(CREDIT_PRICES.enhance);
    expect((await runsOf(user)).map((r) => r.id)).toEqual([runId]);
    expect(await holdsOf(user)).toEqual([{ run_id: runId, amount: CREDIT_PRICES.enhance }]);

    const conflict = await execute(user, { ...body, initialPrompt: 'a grey wolf' }, 'key-1');
    expect(conflict.status).toBe(409);
    expect(((await conflict.json()) as { error: { code: string } }).error.code).toBe('IDEMPOTENCY_CONFLICT');
    // Keys are per user: another user's same key is a new request.
    const other = await t.signUp();
    const theirs = await execute(other, body, 'key-1');
    expect(theirs.status).toBe(202);
    expect(((await theirs.json()) as { runId: string }).runId).not.toBe(runId);
    // Without a key, each request is a new run.
    expect((await execute(user, body)).status).toBe(202);
    expect(await runsOf(user)).toHaveLength(2);
  });

  it('a key of 0 or more than 255 characters is 400; a 400 or 402 stores nothing and the key stays usable', async () => {
    const user = await t.signUp();
    const body = { graph: enhanceOnly('x') };
    for (const key of ['', 'k'.repeat(256)]) {
      const response = await execute(user, body, key);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED');
    }
    expect((await execute(user, body, 'k'.repeat(255))).status).toBe(202);

    const invalid = await execute(
      user,
      { graph: { version: 1, nodes: [{ id: 'a', type: 'nope' }], edges: [] } },
      'k2',
    );
    expect(invalid.status).toBe(400);
    expect(await keysOf(user)).toEqual([{ key: 'k'.repeat(255) }]);

    const drain = await t.services.ledger.reserve({
      userId: user.id,
      runId: `drain-${user.id}`,
      amount: 100 - CREDIT_PRICES.enhance,
      expiresInMs: 60_000,
    });
    const short = await execute(user, body, 'k3');
    expect(short.status).toBe(402);
    expect(await keysOf(user)).toEqual([{ key: 'k'.repeat(255) }]);
    expect(await runsOf(user)).toHaveLength(1);
    await t.services.ledger.release({ holdId: drain.id });
    const retried = await execute(user, body, 'k3');
    expect(retried.status).toBe(202);
    expect(await runsOf(user)).toHaveLength(2);
  });

  it('concurrent requests with one key create one run and all answer it', async () => {
    const user = await t.signUp();
    const body = { graph: enhanceOnly('concurrent') };
    const responses = await Promise.all(Array.from({ length: 6 }, () => execute(user, body, 'same-key')));
    expect(responses.map((r) => r.status)).toEqual(Array(6).fill(202));
    const texts = await Promise.all(responses.map((r) => r.text()));
    expect(new Set(texts).size).toBe(1);
    expect(responses.filter((r) => r.headers.get('idempotent-replayed') === null)).toHaveLength(1);
    const { runId } = JSON.parse(texts[0] as string) as { runId: string };
    expect((await runsOf(user)).map((r) => r.id)).toEqual([runId]);
    expect(await holdsOf(user)).toHaveLength(1);
  });

  it('a key older than 24 h is pruned: it creates a new run', async () => {
    const user = await t.signUp();
    const body = { graph: enhanceOnly('old') };
    const first = (await (await execute(user, body, 'old-key')).json()) as { runId: string };
    await t.services.db
      .updateTable('idempotency_keys')
      .set({ created_at: sql<Date>`now() - interval '25 hours'` } as never)
      .where('user_id', '=', user.id)
      .execute();
    const again = await execute(user, body, 'old-key');
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBeNull();
    expect(((await again.json()) as { runId: string }).runId).not.toBe(first.runId);
    expect(await runsOf(user)).toHaveLength(2);
    // Within 24 h it still replays.
    expect((await execute(user, body, 'old-key')).headers.get('idempotent-replayed')).toBe('true');
  });

  it('answers estimatedDurationSeconds from the providers, in execute and in status', async () => {
    const user = await t.signUp();
    const graph = enhanceOnly('duration');
    const response = await execute(user, { graph });
    const accepted = (await response.json()) as { runId: string; estimatedDurationSeconds: number };
    expect(accepted.estimatedDurationSeconds).toBe(estimateRunSeconds(graph, t.services.providers));
    const status = (await (await user.request('GET', `/api/workflow/status/${accepted.runId}`)).json()) as {
      estimatedDurationSeconds: number;
      parentRunId: string | null;
    };
    expect(status).toMatchObject({
      estimatedDurationSeconds: accepted.estimatedDurationSeconds,
      parentRunId: null,
    });
    // Local providers: image 1 s + 2 s per 8 s of video + 1 s output; hosted figures are minutes.
    expect(estimateRunSeconds(shortVideoTemplate({ durationSeconds: 8 }), t.services.providers)).toBe(4);
    expect(estimateRunSeconds(shortVideoTemplate({ durationSeconds: 30 }), t.services.providers)).toBe(10);
    expect(
      estimateRunSeconds(
        shortVideoTemplate({ durationSeconds: 8 }),
        t.services.providers,
        new Set(['image']),
      ),
    ).toBe(3);
  });
});

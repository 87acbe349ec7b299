/**
 * The PRD's analytics events (section 13) in `analytics_events`: sign-up, and what real runs
 * record through the run event tap: workflow started / completed / failed, every node with its
 * duration, provider and cost, the `generation.*` events. No prompt text, each event once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { recordAnalyticsEvent, recordAnalyticsEvents } from '../src/analytics/record-analytics-event.ts';
import type { StoredRunEvent } from '../src/runs/run-event-bus.ts';
import { insertUser } from './support/ledger-fixtures.ts';
import {
  eventually,
  FLAKY_IMAGE,
  type FlakyMode,
  flakyTemplate,
  opsProviders,
  runToEnd,
} from './support/ops-fixtures.ts';
import { createTestApp, type TestApp } from './support/test-app.ts';
import { describeEachDatabase } from './support/test-databases.ts';

interface Row {
  name: string;
  user_id: string | null;
  properties: Record<string, unknown>;
  created_at: Date;
}

describeEachDatabase('analytics events', ({ database }) => {
  let t: TestApp;
  let flaky: { mode: FlakyMode };
  beforeAll(async () => {
    const ops = opsProviders();
    flaky = ops;
    t = await createTestApp(database(), { providers: ops.providers });
  });
  afterAll(async () => {
    await t?.services.close();
  });
  const rowsOf = (workflowId: string): Promise<Row[]> =>
    t.services.db
      .selectFrom('analytics_events')
      .select(['name', 'user_id', 'properties', 'created_at'])
      .where((eb) => eb(eb.ref('properties', '->>').key('workflowId'), '=', workflowId))
      .orderBy('created_at')
      .orderBy('name')
      .execute() as Promise<Row[]>;

  it('records a sign-up, in the same transaction as the account', async () => {
    const user = await t.signUp();
    const rows = await t.services.db
      .selectFrom('analytics_events')
      .select(['name', 'properties'])
      .where('user_id', '=', user.id)
      .execute();
    expect(rows).toEqual([{ name: 'user.signed_up', properties: { plan: 'free' } }]);
  });

  it('records a completed run: started, each node with duration, provider and cost, the generations, completed', async () => {
    const user = await t.signUp();
    flaky.mode = 'ok';
    const prompt = 'a red fox in the snow at dawn, secret-plan-1234';
    const run = await runToEnd(user, flakyTemplate(prompt));
    expect(run.status).toBe('completed');
    const rows = await eventually(async () => {
      const found = await rowsOf(run.runId);
      expect(found.map((row) => row.name)).toContain('workflow.completed');
      return found;
    });
    for (const row of rows) expect(row.user_id).toBe(user.id);
    const byName = (name: string) => rows.filter((row) => row.name === name).map((row) => row.properties);
    expect(byName('workflow.started')).toEqual([
      {
        workflowId: run.runId,
        estimatedCost: run.cost.reserved,
        nodeCount: 5,
        promptLength: prompt.length,
        rerun: false,
      },
    ]);
    const completed = byName('node.completed');
    expect(completed.map((p) => [p.nodeId, p.nodeType, p.provider, p.cost])).toEqual(
      expect.arrayContaining([
        ['prompt', 'prompt', undefined, 0],
        ['enhance', 'enhance', 'local-text', 1],
        ['image', 'image', FLAKY_IMAGE, 3],
        ['video', 'video', 'local-video', 10],
        ['output', 'output', undefined, 0],
      ]),
    );
    expect(completed).toHaveLength(5);
    for (const props of completed) expect(props.durationMs).toEqual(expect.any(Number));
    expect(byName('generation.prompt_enhanced')).toEqual([
      expect.objectContaining({
        provider: 'local-text',
        model: expect.any(String),
        tokensUsed: expect.any(Number),
      }),
    ]);
    expect(byName('generation.image_created')).toEqual([
      expect.objectContaining({ provider: FLAKY_IMAGE, size: 'medium', width: expect.any(Number) }),
    ]);
    expect(byName('generation.video_created')).toEqual([
      expect.objectContaining({
        provider: 'local-video',
        videoSeconds: expect.any(Number),
        resolution: '720x1280',
      }),
    ]);
    expect(byName('workflow.completed')).toEqual([
      { workflowId: run.runId, actualCost: run.cost.captured, durationMs: expect.any(Number), saved: 0 },
    ]);
    // Lengths only: no prompt text, enhanced or not.
    const stored = JSON.stringify(rows);
    expect(stored).not.toContain('secret-plan-1234');
    expect(stored).not.toContain('red fox');

    // Events heard again (a relay that over-reads) are not recorded twice.
    const events = (await t.services.db
      .selectFrom('run_events')
      .select(['seq', 'type', 'payload'])
      .where('run_id', '=', run.runId)
      .orderBy('seq')
      .execute()) as StoredRunEvent[];
    t.services.runs.events.publish(run.runId, events);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await rowsOf(run.runId)).toHaveLength(rows.length);
  });

  it('records a failed run: the node with its error code, failure and provider, and the failed workflow', async () => {
    const user = await t.signUp();
    flaky.mode = 'reject';
    const run = await runToEnd(user, flakyTemplate('a picture the provider refuses'));
    expect(run.status).toBe('failed');
    const rows = await eventually(async () => {
      const found = await rowsOf(run.runId);
      expect(found.map((row) => row.name)).toContain('workflow.failed');
      return found;
    });
    expect(rows.find((row) => row.name === 'node.failed')?.properties).toEqual({
      workflowId: run.runId,
      nodeId: 'image',
      nodeType: 'image',
      provider: FLAKY_IMAGE,
      durationMs: expect.any(Number),
      errorCode: 'NON_RETRYABLE',
      failure: 'content_rejected',
      attempt: 1,
    });
    expect(rows.find((row) => row.name === 'workflow.failed')?.properties).toEqual({
      workflowId: run.runId,
      failedNode: 'image',
      failedNodeType: 'image',
      errorType: 'NON_RETRYABLE',
      failure: 'content_rejected',
      durationMs: expect.any(Number),
    });
    expect(rows.map((row) => row.name)).not.toContain('workflow.completed');
  });

  it('records a retried provider error as node.retried', async () => {
    const user = await t.signUp();
    flaky.mode = 'rate-limit-once';
    const run = await runToEnd(user, flakyTemplate('a lighthouse in a storm'));
    expect(run.status).toBe('completed');
    const rows = await eventually(async () => {
      const found = await rowsOf(run.runId);
      expect(found.map((row) => row.name)).toContain('workflow.completed');
      return found;
    });
    expect(rows.filter((row) => row.name === 'node.retried').map((row) => row.properties)).toEqual([
      expect.objectContaining({
        provider: FLAKY_IMAGE,
        errorCode: 'RETRY_AFTER',
        failure: 'rate_limited',
        attempt: 1,
      }),
    ]);
  });

  it('refuses secret or prompt properties, skips a known dedupe key, and keeps rows when the user is deleted', async () => {
    const { db } = t.services;
    await expect(
      recordAnalyticsEvent(db, { name: 'apikey.added', userId: null, properties: { apiKey: 'sk-123' } }),
    ).rejects.toThrow(TypeError);
    await expect(
      recordAnalyticsEvent(db, {
        name: 'workflow.started',
        userId: null,
        properties: { nested: { prompt: 'x' } },
      }),
    ).rejects.toThrow(TypeError);
    // jsonb refuses U+0000: it is stored as U+FFFD rather than failing the batch.
    await recordAnalyticsEvent(db, { name: 'test.nul', userId: null, properties: { model: 'a\u0000b' } });
    const nul = await db
      .selectFrom('analytics_events')
      .select('properties')
      .where('name', '=', 'test.nul')
      .execute();
    expect(nul).toEqual([{ properties: { model: 'a\uFFFDb' } }]);
    // A user without a credit account (ledger entries are append-only, so such a user stays).
    const userId = await insertUser(db);
    const event = { name: 'test.once' as const, userId, properties: { n: 1 }, dedupeKey: `once-${userId}` };
    await recordAnalyticsEvents(db, [event, { ...event, dedupeKey: undefined }]);
    await recordAnalyticsEvent(db, event);
    const count = async () =>
      (await db.selectFrom('analytics_events').select('user_id').where('name', '=', 'test.once').execute())
        .length;
    expect(await count()).toBe(2);
    await db.deleteFrom('users').where('id', '=', userId).execute();
    const left = await db
      .selectFrom('analytics_events')
      .select('user_id')
      .where('name', '=', 'test.once')
      .execute();
    expect(left).toEqual([{ user_id: null }, { user_id: null }]);
  });
});

import { shortVideoTemplate } from '@vidgenie/nodes';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readSseUntil } from './support/read-sse.ts';
import { createTestApp, type TestApp } from './support/test-app.ts';
import { describeEachDatabase } from './support/test-databases.ts';

describeEachDatabase('the dashboard stream GET /api/events', ({ database }) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(database());
  });
  afterAll(async () => {
    await t?.services.close();
  });

  it('tells the owner that credits changed and the run finished, and no one else', async () => {
    const [a, b] = await Promise.all([t.signUp(), t.signUp()]);
    const [streamA, streamB] = await Promise.all([
      a.request('GET', '/api/events'),
      b.request('GET', '/api/events'),
    ]);
    expect(streamA.status).toBe(200);
    expect(streamA.headers.get('content-type')).toContain('text/event-stream');
    const accepted = await a.request('POST', '/api/workflow/execute', {
      graph: shortVideoTemplate({ durationSeconds: 8 }),
      initialPrompt: 'a koi pond in the rain',
    });
    expect(accepted.status).toBe(202);
    const { runId } = (await accepted.json()) as { runId: string };
    const heard = await readSseUntil(streamA, (events) => events.some((e) => e.event === 'run.finished'));
    const finished = heard.find((event) => event.event === 'run.finished');
    expect(JSON.parse(finished?.data ?? '{}')).toEqual({ type: 'run.finished', runId, status: 'completed' });
    // The hold when the run was accepted, then the charge and release when it ended.
    expect(heard.filter((event) => event.event === 'credits.changed').length).toBeGreaterThanOrEqual(1);
    expect(heard.at(0)?.event).toBe('credits.changed');
    // B's stream heard nothing of A's run: a marker sent to B now arrives first and alone
    // (events reach a stream in the order they were published).
    await t.services.userEvents.publish(b.id, { type: 'credits.changed' });
    const heardByB = await readSseUntil(streamB, (events) => events.length > 0);
    expect(heardByB.map((event) => JSON.parse(event.data))).toEqual([{ type: 'credits.changed' }]);
  });

  it('answers 401 without a session', async () => {
    expect((await t.request('GET', '/api/events')).status).toBe(401);
  });
});

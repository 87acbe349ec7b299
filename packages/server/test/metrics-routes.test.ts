/**
 * `GET /metrics`: who may scrape it, and what real runs (local providers, one of them flaky) put
 * in it: runs by final status, node durations by type and provider, provider errors by code and
 * failure, credits captured in all and per user, queue depth, the vault key's age.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createMetrics } from '../src/metrics/create-metrics.ts';
import {
  eventually,
  FLAKY_IMAGE,
  type FlakyMode,
  flakyTemplate,
  metricValue,
  opsProviders,
  runToEnd,
} from './support/ops-fixtures.ts';
import { createTestApp, type TestApp, type TestUser } from './support/test-app.ts';
import { describeEachDatabase } from './support/test-databases.ts';

const TOKEN = 'metrics-token-0123456789abcdef';

describeEachDatabase('metrics', ({ database }) => {
  let t: TestApp;
  let flaky: { mode: FlakyMode };
  let admin: TestUser;
  const scrape = async () => {
    const response = await t.request('GET', '/metrics', undefined, { authorization: `Bearer ${TOKEN}` });
    expect(response.status).toBe(200);
    return response.text();
  };
  beforeAll(async () => {
    const ops = opsProviders();
    flaky = ops;
    t = await createTestApp(database(), { env: { VIDGENIE_METRICS_TOKEN: TOKEN }, providers: ops.providers });
    admin = await t.signUp();
    await t.services.db.updateTable('users').set({ role: 'admin' }).where('id', '=', admin.id).execute();
  });
  afterAll(async () => {
    await t?.services.close();
  });

  it('answers the metrics token or an admin; 401 without credentials or with a wrong token, 403 for a user', async () => {
    expect((await t.request('GET', '/metrics')).status).toBe(401);
    const wrong = await t.request('GET', '/metrics', undefined, {
      authorization: 'Bearer metrics-token-wrong',
    });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
    expect((await t.request('GET', '/metrics', undefined, { authorization: 'Basic abc' })).status).toBe(401);
    const user = await t.signUp();
    expect((await user.request('GET', '/metrics')).status).toBe(403);
    const { token } = (await (await user.request('POST', '/api/user/tokens', { name: 'ci' })).json()) as {
      token: string;
    };
    expect((await t.request('GET', '/metrics', undefined, { authorization: `Bearer ${token}` })).status).toBe(
      403,
    );

    const byToken = await t.request('GET', '/metrics', undefined, { authorization: `Bearer ${TOKEN}` });
    expect(byToken.status).toBe(200);
    expect(byToken.headers.get('content-type')).toContain('text/plain');
    expect(byToken.headers.get('content-type')).toContain('version=0.0.4');
    const byAdmin = await admin.request('GET', '/metrics');
    expect(byAdmin.status).toBe(200);
    const text = await byAdmin.text();
    expect(text).toContain('# TYPE vidgenie_node_duration_seconds histogram');
    expect(text).toContain('# TYPE vidgenie_runs_finished_total counter');
    expect(metricValue(text, 'vidgenie_vault_active_key_age_days')).toBe(0);
    expect(metricValue(text, 'vidgenie_database_up')).toBe(1);
    expect(metricValue(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    // The token never appears in what the server says or logs.
    expect(text).not.toContain(TOKEN);
    expect(t.logLines.join('\n')).not.toContain(TOKEN);
  });

  it('counts real runs: statuses, node durations by type and provider, provider errors, credits, queue depth', async () => {
    const user = await t.signUp();
    flaky.mode = 'ok';
    const first = await runToEnd(user, flakyTemplate('a red fox in the snow at dawn'));
    expect(first.status).toBe('completed');
    flaky.mode = 'rate-limit-once';
    const second = await runToEnd(user, flakyTemplate('a lighthouse in a storm'));
    expect(second.status).toBe('completed');
    flaky.mode = 'reject';
    const third = await runToEnd(user, flakyTemplate('a forbidden picture'));
    expect(third.status).toBe('failed');
    const captured = first.cost.captured + second.cost.captured + third.cost.captured;
    expect(captured).toBeGreaterThan(0);

    const text = await eventually(async () => {
      const current = await scrape();
      expect(metricValue(current, 'vidgenie_runs_finished_total', { status: 'failed' })).toBe(1);
      expect(metricValue(current, 'vidgenie_credits_captured_total')).toBe(captured);
      return current;
    });
    expect(metricValue(text, 'vidgenie_runs_started_total')).toBe(3);
    expect(metricValue(text, 'vidgenie_runs_finished_total', { status: 'completed' })).toBe(2);
    expect(metricValue(text, 'vidgenie_runs_finished_total', { status: 'cancelled' })).toBe(0);
    const count = (labels: Record<string, string>) =>
      metricValue(text, 'vidgenie_node_duration_seconds_count', labels);
    expect(count({ node_type: 'image', provider: FLAKY_IMAGE, status: 'completed' })).toBe(2);
    expect(count({ node_type: 'image', provider: FLAKY_IMAGE, status: 'failed' })).toBe(1);
    expect(count({ node_type: 'video', provider: 'local-video', status: 'completed' })).toBe(2);
    expect(count({ node_type: 'enhance', provider: 'local-text', status: 'completed' })).toBe(3);
    expect(count({ node_type: 'prompt', provider: 'none', status: 'completed' })).toBe(3);
    const videoSeconds = metricValue(text, 'vidgenie_node_duration_seconds_sum', {
      node_type: 'video',
      provider: 'local-video',
      status: 'completed',
    });
    expect(videoSeconds).toBeGreaterThan(0);
    expect(
      metricValue(text, 'vidgenie_node_duration_seconds_bucket', {
        node_type: 'video',
        provider: 'local-video',
        status: 'completed',
        le: '+Inf',
      }),
    ).toBe(2);
    expect(
      metricValue(text, 'vidgenie_provider_errors_total', {
        provider: FLAKY_IMAGE,
        code: 'NON_RETRYABLE',
        failure: 'content_rejected',
      }),
    ).toBe(1);
    expect(
      metricValue(text, 'vidgenie_provider_errors_total', {
        provider: FLAKY_IMAGE,
        code: 'RETRY_AFTER',
        failure: 'rate_limited',
      }),
    ).toBe(1);
    expect(metricValue(text, 'vidgenie_user_credits_consumed_total', { user_id: user.id })).toBe(captured);
    expect(metricValue(text, 'vidgenie_runs_queued')).toBe(0);
    expect(metricValue(text, 'vidgenie_runs_active')).toBe(0);

    // A run waiting for a slot (never submitted here) is read from the table at scrape time.
    await t.services.db
      .insertInto('runs')
      .values({
        id: `run_metrics_${Date.now()}`,
        user_id: user.id,
        graph: '{"version":1,"nodes":[],"edges":[]}',
        estimated_cost: 0,
      })
      .execute();
    expect(metricValue(await scrape(), 'vidgenie_runs_queued')).toBe(1);
  });

  it('keeps a registry per server: a second one starts from zero', async () => {
    const other = createMetrics({ db: t.services.db, vault: t.services.vault, defaultMetrics: false });
    const text = await other.scrape();
    expect(metricValue(text, 'vidgenie_runs_finished_total', { status: 'completed' })).toBe(0);
    expect(text).not.toContain('process_cpu_user_seconds_total');
    expect(metricValue(await scrape(), 'vidgenie_runs_finished_total', { status: 'completed' })).toBe(2);
  });
});

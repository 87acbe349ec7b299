/**
 * `GET /api/admin/stats`: the admin dashboard's figures (PRD section 13) over a window, checked
 * on real runs and on a known set of events whose percentiles are computed here independently.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readAdminStats } from '../src/analytics/read-admin-stats.ts';
import { recordAnalyticsEvents } from '../src/analytics/record-analytics-event.ts';
import {
  eventually,
  FLAKY_IMAGE,
  type FlakyMode,
  flakyTemplate,
  opsProviders,
  runToEnd,
} from './support/ops-fixtures.ts';
import { createTestApp, type TestApp, type TestUser } from './support/test-app.ts';
import { describeEachDatabase } from './support/test-databases.ts';

const DAY = 86_400_000;

/** PostgreSQL's `percentile_cont`: linear interpolation between the two closest ranks. */
function percentileCont(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * fraction;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  const lowValue = sorted[low] as number;
  return lowValue + ((sorted[high] as number) - lowValue) * (position - low);
}

interface Stats {
  windowDays: number;
  activeRuns: { queued: number; running: number };
  runs: {
    completed: number;
    failed: number;
    cancelled: number;
    successRate: number | null;
    averageCreditsPerCompletedRun: number | null;
    durationSeconds: { p95: number | null; p99: number | null };
  };
  nodes: {
    nodeType: string;
    completed: number;
    failed: number;
    successRate: number | null;
    durationSeconds: { p95: number | null; p99: number | null };
  }[];
  providerErrors: { provider: string; code: string; failure: string; count: number }[];
}

describeEachDatabase('admin stats', ({ database }) => {
  let t: TestApp;
  let admin: TestUser;
  let flaky: { mode: FlakyMode };
  const stats = async (as: TestUser, query = '') => {
    const response = await as.request('GET', `/api/admin/stats${query}`);
    expect(response.status).toBe(200);
    return (await response.json()) as Stats;
  };
  beforeAll(async () => {
    const ops = opsProviders();
    flaky = ops;
    t = await createTestApp(database(), { providers: ops.providers });
    admin = await t.signUp();
    await t.services.db.updateTable('users').set({ role: 'admin' }).where('id', '=', admin.id).execute();
  });
  afterAll(async () => {
    await t?.services.close();
  });

  it('admins only; the window is validated', async () => {
    const user = await t.signUp();
    expect((await user.request('GET', '/api/admin/stats')).status).toBe(403);
    expect((await t.request('GET', '/api/admin/stats')).status).toBe(401);
    expect((await admin.request('GET', '/api/admin/stats?days=0')).status).toBe(400);
    expect((await admin.request('GET', '/api/admin/stats?days=x')).status).toBe(400);
    expect((await stats(admin, '?days=30')).windowDays).toBe(30);
  });

  it('figures of real runs: counts, success rates per node type, credits per run, provider errors, active runs', async () => {
    const user = await t.signUp();
    flaky.mode = 'ok';
    const ok1 = await runToEnd(user, flakyTemplate('a red fox in the snow'));
    const ok2 = await runToEnd(user, flakyTemplate('a city at night'));
    flaky.mode = 'reject';
    const failed = await runToEnd(user, flakyTemplate('refused'));
    expect([ok1.status, ok2.status, failed.status]).toEqual(['completed', 'completed', 'failed']);
    await t.services.db
      .insertInto('runs')
      .values({
        id: `run_stats_${Date.now()}`,
        user_id: user.id,
        graph: '{"version":1,"nodes":[],"edges":[]}',
        estimated_cost: 0,
      })
      .execute();

    const body = await eventually(async () => {
      const current = await stats(admin);
      expect(current.runs.failed).toBe(1);
      expect(current.runs.completed).toBe(2);
      return current;
    });
    expect(body.windowDays).toBe(7);
    expect(body.activeRuns).toEqual({ queued: 1, running: 0 });
    expect(body.runs).toMatchObject({ completed: 2, failed: 1, cancelled: 0, successRate: 2 / 3 });
    expect(body.runs.averageCreditsPerCompletedRun).toBe((ok1.cost.captured + ok2.cost.captured) / 2);
    expect(body.runs.durationSeconds.p95).toBeGreaterThan(0);
    expect(body.runs.durationSeconds.p99).toBeGreaterThanOrEqual(body.runs.durationSeconds.p95 ?? 0);
    const node = (type: string) => body.nodes.find((entry) => entry.nodeType === type);
    expect(node('image')).toMatchObject({ completed: 2, failed: 1, successRate: 2 / 3 });
    expect(node('video')).toMatchObject({ completed: 2, failed: 0, successRate: 1 });
    expect(node('enhance')).toMatchObject({ completed: 3, failed: 0 });
    expect(node('video')?.durationSeconds.p95).toBeGreaterThan(0);
    expect(body.providerErrors).toEqual([
      { provider: FLAKY_IMAGE, code: 'NON_RETRYABLE', failure: 'content_rejected', count: 1 },
    ]);
  });

  it('P95/P99 by percentile_cont over the window only, on a known set of events', async () => {
    // 100 days ahead: today's real runs are outside this window.
    const now = new Date(Date.now() + 100 * DAY);
    const at = (daysAgo: number) => new Date(now.getTime() - daysAgo * DAY);
    const runMs = Array.from({ length: 40 }, (_, i) => 1000 + i * i * 37);
    const nodeMs = [120, 450, 900, 2000, 2500, 8000, 9000, 61_000];
    await recordAnalyticsEvents(t.services.db, [
      ...runMs.map((durationMs, i) => ({
        name: 'workflow.completed' as const,
        userId: null,
        properties: { workflowId: `w${i}`, actualCost: i % 2 === 0 ? 14 : 24, durationMs },
        at: at(1 + (i % 5)),
      })),
      ...Array.from({ length: 10 }, (_, i) => ({
        name: 'workflow.failed' as const,
        userId: null,
        properties: { workflowId: `f${i}`, errorType: 'NON_RETRYABLE' },
        at: at(2),
      })),
      ...nodeMs.map((durationMs) => ({
        name: 'node.completed' as const,
        userId: null,
        properties: { nodeType: 'synthetic', provider: 'p1', durationMs, cost: 1 },
        at: at(3),
      })),
      {
        name: 'node.failed' as const,
        userId: null,
        properties: { nodeType: 'synthetic', provider: 'p1', errorCode: 'TIMEOUT' },
        at: at(3),
      },
      {
        name: 'node.retried' as const,
        userId: null,
        properties: {
          nodeType: 'synthetic',
          provider: 'p1',
          errorCode: 'RETRY_AFTER',
          failure: 'rate_limited',
        },
        at: at(3),
      },
      {
        name: 'node.retried' as const,
        userId: null,
        properties: {
          nodeType: 'synthetic',
          provider: 'p1',
          errorCode: 'RETRY_AFTER',
          failure: 'rate_limited',
        },
        at: at(4),
      },
      {
        name: 'node.retried' as const,
        userId: null,
        properties: {
          nodeType: 'synthetic',
          provider: 'p2',
          errorCode: 'NODE_FAILED',
          failure: 'unavailable',
        },
        at: at(4),
      },
      // Outside the 7-day window: ignored.
      {
        name: 'workflow.completed' as const,
        userId: null,
        properties: { actualCost: 999, durationMs: 9_999_999 },
        at: at(8),
      },
      {
        name: 'node.failed' as const,
        userId: null,
        properties: { nodeType: 'synthetic', provider: 'p1', errorCode: 'TIMEOUT' },
        at: at(9),
      },
    ]);
    const body = await readAdminStats(t.services.db, { now });
    const seconds = (ms: number) => Math.round(ms) / 1000;
    expect(body.runs).toEqual({
      completed: 40,
      failed: 10,
      cancelled: 0,
      successRate: 0.8,
      averageCreditsPerCompletedRun: 19,
      durationSeconds: {
        p95: seconds(percentileCont(runMs, 0.95)),
        p99: seconds(percentileCont(runMs, 0.99)),
      },
    });
    expect(body.nodes).toEqual([
      {
        nodeType: 'synthetic',
        completed: 8,
        failed: 1,
        successRate: 8 / 9,
        durationSeconds: {
          p95: seconds(percentileCont(nodeMs, 0.95)),
          p99: seconds(percentileCont(nodeMs, 0.99)),
        },
      },
    ]);
    expect(body.providerErrors).toEqual([
      { provider: 'p1', code: 'RETRY_AFTER', failure: 'rate_limited', count: 2 },
      { provider: 'p1', code: 'TIMEOUT', failure: 'none', count: 1 },
      { provider: 'p2', code: 'NODE_FAILED', failure: 'unavailable', count: 1 },
    ]);
    const wider = await readAdminStats(t.services.db, { now, days: 10 });
    expect(wider.runs.completed).toBe(41);
    expect(wider.providerErrors.find((entry) => entry.code === 'TIMEOUT')?.count).toBe(2);
  });
});

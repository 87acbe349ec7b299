import { describe, expect, it } from 'vitest';
import { addMonths, currentPeriod, PLAN_IDS, PLANS, renewalTopUp } from './plans.ts';
import { usageWindows } from './usage-windows.ts';

describe('plans', () => {
  it('match the PRD: free 100, starter 500, pro 2000, enterprise unlimited', () => {
    expect(PLAN_IDS.map((id) => [id, PLANS[id].monthlyCredits])).toEqual([
      ['free', 100],
      ['starter', 500],
      ['pro', 2000],
      ['enterprise', null],
    ]);
  });

  it('renewal tops up to the allowance and never takes credits away', () => {
    expect(renewalTopUp({ plan: 'free', balance: 0 })).toBe(100);
    expect(renewalTopUp({ plan: 'free', balance: 30 })).toBe(70);
    expect(renewalTopUp({ plan: 'free', balance: 100 })).toBe(0);
    expect(renewalTopUp({ plan: 'free', balance: 250 })).toBe(0);
    expect(renewalTopUp({ plan: 'pro', balance: 1500 })).toBe(500);
    expect(renewalTopUp({ plan: 'starter', balance: -20 })).toBe(520);
    expect(renewalTopUp({ plan: 'enterprise', balance: -5000 })).toBe(0);
  });
});

describe('billing periods', () => {
  it('add calendar months in UTC, clamped to shorter months', () => {
    expect(addMonths(new Date('2025-01-15T10:00:00Z'), 1).toISOString()).toBe('2025-02-15T10:00:00.000Z');
    expect(addMonths(new Date('2025-01-31T10:00:00Z'), 1).toISOString()).toBe('2025-02-28T10:00:00.000Z');
    expect(addMonths(new Date('2024-01-31T10:00:00Z'), 1).toISOString()).toBe('2024-02-29T10:00:00.000Z');
    expect(addMonths(new Date('2025-12-31T23:59:00Z'), 1).toISOString()).toBe('2026-01-31T23:59:00.000Z');
    expect(addMonths(new Date('2025-03-31T00:00:00Z'), 12).toISOString()).toBe('2026-03-31T00:00:00.000Z');
  });

  it('the current period starts at the last renewal date at or before now; missed periods are skipped', () => {
    const renewsAt = new Date('2025-01-10T00:00:00Z');
    expect(currentPeriod({ renewsAt, now: new Date('2025-01-10T00:00:00Z') })).toEqual({
      start: new Date('2025-01-10T00:00:00Z'),
      renewsAt: new Date('2025-02-10T00:00:00Z'),
    });
    expect(currentPeriod({ renewsAt, now: new Date('2025-04-09T23:59:59Z') })).toEqual({
      start: new Date('2025-03-10T00:00:00Z'),
      renewsAt: new Date('2025-04-10T00:00:00Z'),
    });
  });
});

describe('usage windows', () => {
  it('start at 00:00 UTC today and on Monday 00:00 UTC', () => {
    // 2030-01-17 is a Thursday.
    expect(usageWindows(new Date('2030-01-17T15:30:00Z'))).toEqual({
      dayStart: new Date('2030-01-17T00:00:00Z'),
      weekStart: new Date('2030-01-14T00:00:00Z'),
    });
    // On a Monday the week starts today; on a Sunday, six days ago.
    expect(usageWindows(new Date('2030-01-14T00:00:00Z')).weekStart).toEqual(
      new Date('2030-01-14T00:00:00Z'),
    );
    expect(usageWindows(new Date('2030-01-20T23:59:59Z')).weekStart).toEqual(
      new Date('2030-01-14T00:00:00Z'),
    );
  });
});

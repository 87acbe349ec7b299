import { describe, expect, it } from 'vitest';
import { barWidth, formatNumber, formatRate } from './format.ts';

describe('admin figures formatting', () => {
  it('formats rates as percentages, null stays null', () => {
    expect(formatRate('en', 1)).toBe('100%');
    expect(formatRate('en', 2 / 3)).toBe('66.7%');
    expect(formatRate('fr', 0.5)).toMatch(/^50\s%$/u);
    expect(formatRate('en', null)).toBeNull();
  });

  it('formats numbers with two decimals at most', () => {
    expect(formatNumber('en', 12.3456)).toBe('12.35');
    expect(formatNumber('fr', 1.5)).toBe('1,5');
    expect(formatNumber('en', null)).toBeNull();
  });

  it('clamps bar widths to 0–100', () => {
    expect(barWidth(null)).toBe(0);
    expect(barWidth(0.5)).toBe(50);
    expect(barWidth(1.2)).toBe(100);
    expect(barWidth(-1)).toBe(0);
    expect(barWidth(Number.NaN)).toBe(0);
  });
});

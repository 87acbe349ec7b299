import type { Language } from '../i18n/translate.ts';

/** A share (0 to 1) as a percentage in the user's language, one decimal at most; null when there is none. */
export function formatRate(language: Language, rate: number | null): string | null {
  if (rate === null) return null;
  return new Intl.NumberFormat(language, { style: 'percent', maximumFractionDigits: 1 }).format(rate);
}

/** A number in the user's language, two decimals at most; null when there is none. */
export function formatNumber(language: Language, value: number | null): string | null {
  if (value === null) return null;
  return new Intl.NumberFormat(language, { maximumFractionDigits: 2 }).format(value);
}

/** The width of a success-rate bar, 0 to 100 (0 without data). */
export function barWidth(rate: number | null): number {
  if (rate === null || !Number.isFinite(rate)) return 0;
  return Math.round(Math.min(1, Math.max(0, rate)) * 1000) / 10;
}

/** The short-video graph's node types, in order. */
const STEP_ORDER: readonly string[] = ['prompt', 'enhance', 'image', 'video', 'output'];

/** Node types in the graph's order (prompt → output), unknown ones after, by name. */
export const inStepOrder = <T extends { readonly nodeType: string }>(nodes: readonly T[]): T[] => {
  const rank = (type: string) => {
    const index = STEP_ORDER.indexOf(type);
    return index === -1 ? STEP_ORDER.length : index;
  };
  return [...nodes].sort(
    (a, b) => rank(a.nodeType) - rank(b.nodeType) || a.nodeType.localeCompare(b.nodeType),
  );
};

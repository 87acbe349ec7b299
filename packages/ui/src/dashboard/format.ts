import type { Language } from '../i18n/translate.ts';

/** A date (and time) in the user's language; the raw text when it cannot be read. */
export function formatDate(language: Language, iso: string, withTime = true): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(language, {
    dateStyle: 'medium',
    ...(withTime ? { timeStyle: 'short' } : {}),
  }).format(date);
}

/** The monthly credits of each plan (null: unlimited), as the server's plans define them. */
export const PLAN_ALLOWANCE = { free: 100, starter: 500, pro: 2000, enterprise: null } as const;

/** The share of the gauge to fill: available over the larger of the plan's allowance and the balance. */
export function gaugeShare(available: number, balance: number, allowance: number): number {
  const scale = Math.max(allowance, balance, 1);
  return Math.min(1, Math.max(0, available / scale));
}

import { atom } from 'jotai';
import type { CreditBalance, CreditHistory, RunHistory } from '../api/api-types.ts';

/** `GET /api/credits/balance`: plan, balance, held, available, renewal, used today and this week. */
export const balanceAtom = atom<CreditBalance | null>(null);

/** The latest runs (`GET /api/workflow/runs`), newest first. */
export const recentRunsAtom = atom<RunHistory | null>(null);

/** The credit ledger (`GET /api/credits/history`), read when the History panel opens. */
export const creditHistoryAtom = atom<CreditHistory | null>(null);

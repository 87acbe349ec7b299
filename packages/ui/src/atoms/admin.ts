import { atom } from 'jotai';
import type { AdminStats, LedgerReconciliation, VaultStatus } from '../api/api-types.ts';

/** The windows /admin offers, in days. */
export const ADMIN_WINDOWS = [1, 7, 30] as const;
export type AdminWindow = (typeof ADMIN_WINDOWS)[number];

/** The window of `GET /api/admin/stats?days=`. */
export const adminWindowAtom = atom<AdminWindow>(7);

/** `GET /api/admin/stats` for the chosen window; null until read. */
export const adminStatsAtom = atom<AdminStats | null>(null);

/** `GET /api/admin/vault`; null until read. */
export const vaultStatusAtom = atom<VaultStatus | null>(null);

/** `GET /api/admin/ledger/reconciliation`; null until read. */
export const reconciliationAtom = atom<LedgerReconciliation | null>(null);

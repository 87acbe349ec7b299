/**
 * The idempotency keys of ledger entries. `ledger_entries.idempotency_key` is unique, so each key
 * below can be written once: a hold is reserved once and resolved (released or expired) once, a
 * (hold, node) is captured once, an account is opened once and renewed once per period.
 * @internal
 */
export const entryKeys = {
  open: (userId: string) => `open:${userId}`,
  grant: (userId: string, key: string) => `grant:${userId}:${key}`,
  plan: (userId: string, changeId: string) => `plan:${userId}:${changeId}`,
  renewal: (userId: string, periodStart: Date) => `renewal:${userId}:${periodStart.toISOString()}`,
  reserve: (holdId: string) => `reserve:${holdId}`,
  capture: (holdId: string, nodeId: string) => `capture:${holdId}:${nodeId}`,
  resolve: (holdId: string) => `resolve:${holdId}`,
} as const;

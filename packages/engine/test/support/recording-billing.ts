import { vi } from 'vitest';
import type { BillingHooks } from '../../src/cost/billing-hooks.ts';

/**
 * Billing hooks for engine tests: every reserve answers `hold-1`, captures succeed, and each
 * release is written to `log` as `release:<amount>` (so a test can check the order of the end's
 * writes). The hooks are Vitest mocks.
 */
export function recordingBilling(log: string[]) {
  return {
    reserve: vi.fn<BillingHooks['reserve']>(async () => ({ reservationId: 'hold-1' })),
    capture: vi.fn<BillingHooks['capture']>(async () => {}),
    release: vi.fn<BillingHooks['release']>(async (args) => {
      log.push(`release:${args.amount}`);
    }),
  } satisfies BillingHooks;
}

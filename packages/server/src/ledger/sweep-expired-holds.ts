import type { LedgerContext } from './ledger-context.ts';
import { resolveHold } from './resolve-hold.ts';
import { retryTransient } from './retry-transient.ts';

/** What a sweep did. */
export interface SweepReport {
  /** Holds expired by this sweep. */
  readonly expired: number;
  /** Credits they returned to their accounts. */
  readonly returned: number;
}

/**
 * Expires every pending hold whose `expires_at` has passed (a run that died without releasing):
 * each becomes `expired` and returns `amount - captured`, with an `expire` entry. Holds are taken
 * in batches of `batchSize`, each resolved by its own statement (which re-checks that it is still
 * pending and expired, so a release or another sweeper racing it wins or loses cleanly).
 * @internal
 */
export async function sweepExpiredHolds(
  ctx: LedgerContext,
  options: { readonly batchSize?: number } = {},
): Promise<SweepReport> {
  const batchSize = options.batchSize ?? 200;
  let expired = 0;
  let returned = 0;
  let after = '';
  for (;;) {
    const now = ctx.now();
    const due = await ctx.db
      .selectFrom('credit_holds')
      .select('id')
      .where('state', '=', 'pending')
      .where('expires_at', '<=', now)
      .where('id', '>', after)
      .orderBy('id')
      .limit(batchSize)
      .execute();
    for (const { id } of due) {
      const credits = await retryTransient(
        () => resolveHold(ctx, { holdId: id, state: 'expired', reason: 'Hold expired: its run stopped' }),
        { onUniqueViolation: true },
      );
      if (credits !== undefined) {
        expired += 1;
        returned += credits;
      }
    }
    if (due.length < batchSize) return { expired, returned };
    after = due.at(-1)?.id ?? after;
  }
}

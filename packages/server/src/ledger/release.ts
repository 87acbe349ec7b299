import { ApiError } from '../errors/api-error.ts';
import { assertFence, type LeaseFence } from '../runs/lease-fence.ts';
import type { LedgerContext } from './ledger-context.ts';
import { type ResolvedState, resolveHold } from './resolve-hold.ts';
import { retryTransient } from './retry-transient.ts';

/** Arguments of `CreditLedger.release`. */
export interface ReleaseArgs {
  readonly holdId: string;
  /** Shown in the history; defaults to "Run ended: unused credits returned". */
  readonly reason?: string;
  /** The run's lease: nothing is returned, and `StaleFenceError` thrown, once another worker holds the run. */
  readonly fence?: LeaseFence;
}

/**
 * What a release did: `returned` credits (`amount - captured`) went back to the account. When the
 * hold was already resolved, `replayed` is true and `returned` and `state` are the first
 * resolution's: a hold is resolved at most once.
 */
export interface ReleaseResult {
  readonly returned: number;
  readonly state: ResolvedState;
  readonly replayed: boolean;
}

/** The history's line for a run's release. @internal */
export const RELEASE_REASON = 'Run ended: unused credits returned';

/**
 * Releases what remains of a hold, once (see `resolveHold`). Unknown hold: 404.
 * @internal
 */
export async function release(ctx: LedgerContext, args: ReleaseArgs): Promise<ReleaseResult> {
  return retryTransient(
    async () => {
      for (let attempt = 0; attempt < 5; attempt++) {
        const returned = await resolveHold(ctx, {
          holdId: args.holdId,
          state: 'released',
          reason: args.reason ?? RELEASE_REASON,
          ...(args.fence === undefined ? {} : { fence: args.fence }),
        });
        if (returned !== undefined) return { returned, state: 'released', replayed: false };
        await assertFence(ctx.db, args.fence);
        const hold = await ctx.db
          .selectFrom('credit_holds')
          .select(['state', 'returned'])
          .where('id', '=', args.holdId)
          .executeTakeFirst();
        if (hold === undefined) throw new ApiError('NOT_FOUND', `No credit hold ${args.holdId}.`);
        // Still pending: the hold was not visible to the statement yet (its reserve committed just after).
        if (hold.state !== 'pending' && hold.returned !== null) {
          return { returned: hold.returned, state: hold.state, replayed: true };
        }
      }
      throw new Error(`Could not release hold ${args.holdId}: it kept changing.`);
    },
    { onUniqueViolation: true },
  );
}

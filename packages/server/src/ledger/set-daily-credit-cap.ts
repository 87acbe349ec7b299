import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/audit-log.ts';
import type { DB } from '../db/schema.ts';
import { ApiError } from '../errors/api-error.ts';

/** Arguments of `setDailyCreditCap`. */
export interface SetDailyCreditCapArgs {
  readonly userId: string;
  /** Credits per UTC day; null goes back to the server's default (`VIDGENIE_DAILY_CREDIT_CAP`). */
  readonly dailyCap: number | null;
  /** The admin making the change (audited). */
  readonly actorUserId: string;
  readonly ip?: string | undefined;
}

/**
 * Sets (or clears, with null) an account's own daily credit cap, audited as
 * `credits.daily_cap_set`, in one transaction. 404 `NOT_FOUND` without a credit account. Holds
 * already placed stay; the next reserve is checked against the new cap.
 */
export async function setDailyCreditCap(
  db: Kysely<DB>,
  args: SetDailyCreditCapArgs,
): Promise<{ readonly dailyCap: number | null }> {
  if (args.dailyCap !== null && (!Number.isSafeInteger(args.dailyCap) || args.dailyCap < 0)) {
    throw new RangeError('"dailyCap" must be a whole number of credits, at least 0, or null.');
  }
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('credit_accounts')
      .set({ daily_credit_cap: args.dailyCap })
      .where('user_id', '=', args.userId)
      .returning('daily_credit_cap')
      .executeTakeFirst();
    if (row === undefined) throw new ApiError('NOT_FOUND', 'No such user.');
    await recordAudit(trx, {
      actorUserId: args.actorUserId,
      subjectUserId: args.userId,
      action: 'credits.daily_cap_set',
      target: args.userId,
      detail: { dailyCap: args.dailyCap },
      ip: args.ip,
    });
    return { dailyCap: row.daily_credit_cap };
  });
}

import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';

/**
 * What every ledger operation works with: the database and the clock. Timestamps the ledger
 * writes (holds' expiry, entries, captures) come from `now`, so tests can move time.
 * @internal
 */
export interface LedgerContext {
  readonly db: Kysely<DB>;
  readonly now: () => Date;
  /** The daily credit cap of accounts without their own (`VIDGENIE_DAILY_CREDIT_CAP`); none when undefined. */
  readonly dailyCreditCap?: number | undefined;
}

import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB, PlanId, UserRole } from '../../src/db/schema.ts';
import { ApiError } from '../../src/errors/api-error.ts';
import type { ApiErrorCode } from '../../src/errors/api-error-code.ts';
import type { CreditLedger } from '../../src/ledger/credit-ledger.ts';

/** A clock tests move by hand. */
export interface TestClock {
  readonly now: () => Date;
  /** Moves the clock forward by `ms`. */
  advance(ms: number): void;
  /** Sets the clock. */
  set(date: Date): void;
}

/** A clock starting at `start` (default 2030-01-15 12:00 UTC, a Tuesday). */
export function testClock(start = new Date('2030-01-15T12:00:00.000Z')): TestClock {
  let current = start.getTime();
  return {
    now: () => new Date(current),
    advance(ms) {
      current += ms;
    },
    set(date) {
      current = date.getTime();
    },
  };
}

/** A fresh id with a prefix, unique across test files and runs. */
export function uniqueId(prefix: string): string {
  return `${prefix}_${randomBytes(9).toString('base64url')}`;
}

/** Inserts a user (with a random email); returns its id. */
export async function insertUser(
  db: Kysely<DB>,
  options: { readonly role?: UserRole } = {},
): Promise<string> {
  const id = uniqueId('usr');
  await db
    .insertInto('users')
    .values({
      id,
      email: `${id.toLowerCase()}@example.com`,
      password_hash: 'not-a-hash',
      role: options.role ?? 'user',
    })
    .execute();
  return id;
}

/** Inserts a user and opens their credit account; with `balance`, tops it up by a grant to that much. */
export async function userWithAccount(
  db: Kysely<DB>,
  ledger: CreditLedger,
  options: { readonly plan?: PlanId; readonly balance?: number } = {},
): Promise<string> {
  const userId = await insertUser(db);
  const account = await ledger.openAccount(db, { userId, plan: options.plan ?? 'free' });
  if (options.balance !== undefined && options.balance > account.balance) {
    await ledger.grant({ userId, amount: options.balance - account.balance, reason: 'test setup' });
  }
  return userId;
}

/** Awaits `promise`, expecting an `ApiError` with `code`; returns it for more assertions. */
export async function expectApiError(promise: Promise<unknown>, code: ApiErrorCode): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError && error.code === code) return error;
    throw new Error(
      `expected ApiError ${code}, got ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
    );
  }
  throw new Error(`expected ApiError ${code}, but it succeeded`);
}

/** The sums an account's ledger entries add up to, and how many entries of each kind it has. */
export async function entrySums(
  db: Kysely<DB>,
  userId: string,
): Promise<{ balance: number; held: number; kinds: Record<string, number> }> {
  const rows = await db
    .selectFrom('ledger_entries')
    .select(['kind', 'balance_delta', 'held_delta'])
    .where('user_id', '=', userId)
    .execute();
  const kinds: Record<string, number> = {};
  for (const row of rows) kinds[row.kind] = (kinds[row.kind] ?? 0) + 1;
  return {
    balance: rows.reduce((sum, row) => sum + row.balance_delta, 0),
    held: rows.reduce((sum, row) => sum + row.held_delta, 0),
    kinds,
  };
}

import { type Kysely, sql } from 'kysely';
import { recordAnalyticsEvent } from '../analytics/record-analytics-event.ts';
import { recordAudit } from '../audit/audit-log.ts';
import type { DB, UserRole } from '../db/schema.ts';
import { ApiError } from '../errors/api-error.ts';
import { newId } from '../ids/new-id.ts';
import type { CreditLedger } from '../ledger/credit-ledger.ts';
import { dummyPasswordHash, hashPassword, verifyPassword } from './password-hash.ts';

/** A user as the API shows it. */
export interface PublicUser {
  readonly id: string;
  readonly email: string;
  readonly role: UserRole;
  readonly createdAt: Date;
}

/**
 * Creates an account with its credit account (free plan) in one transaction. The first account
 * of a new installation becomes its admin. A taken email answers 409 `CONFLICT`.
 * @internal
 */
export async function signUp(
  db: Kysely<DB>,
  args: { email: string; password: string; ledger: CreditLedger; ip: string },
): Promise<PublicUser> {
  const passwordHash = await hashPassword(args.password);
  try {
    return await db.transaction().execute(async (trx) => {
      const id = newId('usr');
      const row = await trx
        .insertInto('users')
        .values({
          id,
          email: args.email,
          password_hash: passwordHash,
          role: sql<UserRole>`case when exists (select 1 from users) then 'user' else 'admin' end`,
        })
        .returning(['id', 'email', 'role', 'created_at'])
        .executeTakeFirstOrThrow();
      await args.ledger.openAccount(trx, { userId: id, plan: 'free' });
      await recordAudit(trx, {
        actorUserId: id,
        subjectUserId: id,
        action: 'user.signed_up',
        target: null,
        detail: { role: row.role },
        ip: args.ip,
      });
      await recordAnalyticsEvent(trx, { name: 'user.signed_up', userId: id, properties: { plan: 'free' } });
      return toPublicUser(row);
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new ApiError('CONFLICT', 'An account with this email already exists: sign in instead.');
    }
    throw error;
  }
}

/**
 * The user whose email and password match, or a 401 `INVALID_CREDENTIALS` that does not say which
 * was wrong. Takes as long for an unknown email as for a wrong password.
 * @internal
 */
export async function authenticate(
  db: Kysely<DB>,
  args: { email: string; password: string },
): Promise<PublicUser> {
  const row = await db
    .selectFrom('users')
    .select(['id', 'email', 'role', 'created_at', 'password_hash'])
    .where('email', '=', args.email)
    .executeTakeFirst();
  const ok = await verifyPassword(args.password, row?.password_hash ?? (await dummyPasswordHash));
  if (row === undefined || !ok) throw new ApiError('INVALID_CREDENTIALS', 'Wrong email or password.');
  return toPublicUser(row);
}

/** One user by id, or undefined. @internal */
export async function findUser(db: Kysely<DB>, userId: string): Promise<PublicUser | undefined> {
  const row = await db
    .selectFrom('users')
    .select(['id', 'email', 'role', 'created_at'])
    .where('id', '=', userId)
    .executeTakeFirst();
  return row === undefined ? undefined : toPublicUser(row);
}

function toPublicUser(row: { id: string; email: string; role: UserRole; created_at: Date }): PublicUser {
  return { id: row.id, email: row.email, role: row.role, createdAt: row.created_at };
}

/** PostgreSQL's unique_violation (23505), from `pg` or PGlite. @internal */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}

import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { newId } from '../ids/new-id.ts';

/** What the vault records. */
export type VaultAuditAction =
  | 'provider_key.saved'
  | 'provider_key.replaced'
  | 'provider_key.deleted'
  | 'provider_key.tested'
  | 'provider_key.decrypted'
  | 'provider_key.decrypt_failed'
  | 'vault.rewrapped'
  | 'vault.key_activated';

/**
 * An audit action: a dotted `subject.verb` name. The vault's are listed in
 * {@link VaultAuditAction}; other features add their own (`user.signed_up`…).
 */
export type AuditAction = VaultAuditAction | (`${string}.${string}` & {});

/** One event to record. */
export interface AuditRecord {
  /** Who did it (null for the system: background rewrap, sweeper). */
  readonly actorUserId: string | null;
  /** Whose data it concerns. */
  readonly subjectUserId: string | null;
  readonly action: AuditAction;
  /** What it was done to (e.g. the provider id `openai`). */
  readonly target?: string | null | undefined;
  /** Facts worth keeping (ids, counts, statuses). Never a secret: names like `key` or `token` are refused. */
  readonly detail?: Readonly<Record<string, unknown>> | undefined;
  readonly ip?: string | null | undefined;
  /** When (default: the database's `now()`). */
  readonly at?: Date | undefined;
}

/** One recorded event. */
export interface AuditEntry {
  readonly id: string;
  readonly actorUserId: string | null;
  readonly subjectUserId: string | null;
  readonly action: string;
  readonly target: string | null;
  readonly detail: Readonly<Record<string, unknown>>;
  readonly ip: string | null;
  readonly createdAt: Date;
}

/** Detail fields that would hold a secret: recording one is a bug. */
const SECRET_NAMES = /^(key|api_?key|secret|password|token|plaintext|ciphertext|authorization|cookie)$/i;

/**
 * Throws when `detail` (at any depth) has a field whose name would hold a secret (`key`,
 * `token`…). Statements that write audit rows without {@link recordAudit} check their detail
 * with it. @internal
 */
export function assertNoSecretNames(value: unknown, path = ''): void {
  if (value === null || typeof value !== 'object') return;
  for (const [name, inner] of Object.entries(value)) {
    if (SECRET_NAMES.test(name))
      throw new TypeError(`Audit detail must not hold secrets: "${path}${name}" refused.`);
    assertNoSecretNames(inner, `${path}${name}.`);
  }
}

/**
 * Appends an event to the audit log. Pass the transaction (`trx`) when the event belongs to a
 * change, so both commit or neither does. Returns the event's id.
 *
 * @example
 * ```ts
 * import { openDatabase, migrateToLatest, recordAudit } from '@vidgenie/server';
 * const { db, close } = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
 * await migrateToLatest(db);
 * await recordAudit(db, { actorUserId: null, subjectUserId: null, action: 'vault.rewrapped', detail: { rows: 0 } });
 * await close();
 * ```
 */
export async function recordAudit(db: Kysely<DB>, record: AuditRecord): Promise<string> {
  const detail = record.detail ?? {};
  assertNoSecretNames(detail, '');
  const id = newId('aud');
  await db
    .insertInto('audit_log')
    .values({
      id,
      actor_user_id: record.actorUserId,
      subject_user_id: record.subjectUserId,
      action: record.action,
      target: record.target ?? null,
      detail,
      ip: record.ip ?? null,
      ...(record.at === undefined ? {} : { created_at: record.at }),
    })
    .execute();
  return id;
}

/**
 * A user's audit trail, newest first (at most `limit` events, default 50, capped at 500); `before`
 * pages back from a time.
 *
 * @example
 * ```ts
 * import { listAudit, openDatabase, migrateToLatest } from '@vidgenie/server';
 * const { db, close } = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
 * await migrateToLatest(db);
 * const events = await listAudit(db, { subjectUserId: 'usr_1', limit: 20 });
 * console.log(events.map((event) => `${event.createdAt.toISOString()} ${event.action}`));
 * await close();
 * ```
 */
export async function listAudit(
  db: Kysely<DB>,
  query: { readonly subjectUserId: string; readonly limit?: number; readonly before?: Date },
): Promise<AuditEntry[]> {
  const limit = Math.min(Math.max(1, Math.trunc(query.limit ?? 50)), 500);
  let select = db.selectFrom('audit_log').selectAll().where('subject_user_id', '=', query.subjectUserId);
  if (query.before !== undefined) select = select.where('created_at', '<', query.before);
  const rows = await select.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  return rows.map((row) => ({
    id: row.id,
    actorUserId: row.actor_user_id,
    subjectUserId: row.subject_user_id,
    action: row.action,
    target: row.target,
    detail: row.detail,
    ip: row.ip,
    createdAt: row.created_at,
  }));
}

import { type Kysely, type Selectable, sql } from 'kysely';
import { gather } from '../db/gather.ts';
import type { DB, ProviderKeysTable } from '../db/schema.ts';
import { newId } from '../ids/new-id.ts';

/** One use of a stored key: whose, which, by whom, and the audit record's detail. */
export interface KeyUse {
  readonly userId: string;
  readonly providerId: string;
  readonly actorUserId: string;
  /** The audit record's detail (no secret in it); the row's key id is added to it. */
  readonly detail: Readonly<Record<string, unknown>>;
  readonly at: Date;
}

/** Reads stored keys for use, each read audited: see {@link createKeyUseReader}. */
export type KeyUseReader = (use: KeyUse) => Promise<Selectable<ProviderKeysTable> | undefined>;

/**
 * Reads provider key rows for use, each with its `provider_key.decrypted` audit record written by
 * the same statement (the record is committed before the key is opened), and gathers them
 * ({@link gather}): a burst of runs reaching their providers makes a few statements, not one per
 * key. A read finds nothing (undefined) when the user has no such key, and writes no record then.
 * @internal
 */
export function createKeyUseReader(db: Kysely<DB>): KeyUseReader {
  const read = async (batch: readonly KeyUse[]) => {
    const column = <T>(pick: (use: KeyUse) => T) => batch.map(pick);
    const { rows } = await sql<Selectable<ProviderKeysTable> & { ord: string }>`
      with use as (
        select * from unnest(
          ${column(() => newId('aud'))}::text[], ${column((u) => u.userId)}::text[],
          ${column((u) => u.providerId)}::text[], ${column((u) => u.actorUserId)}::text[],
          ${column((u) => JSON.stringify(u.detail))}::text[], ${column((u) => u.at.toISOString())}::timestamptz[]
        ) with ordinality as u(audit_id, user_id, provider_id, actor_user_id, detail, at, ord)
      ), k as (
        select u.ord, u.audit_id, u.actor_user_id, u.detail, u.at, p.*
          from use u join provider_keys p on p.user_id = u.user_id and p.provider_id = u.provider_id
      ), audit as (
        insert into audit_log (id, actor_user_id, subject_user_id, action, target, detail, created_at)
        select k.audit_id, k.actor_user_id, k.user_id, 'provider_key.decrypted', k.provider_id,
               k.detail::jsonb || jsonb_build_object('keyId', k.key_id), k.at
          from k
      )
      select * from k`.execute(db);
    const byOrd = new Map(rows.map((row) => [Number(row.ord), row]));
    return batch.map((_, i) => {
      const row = byOrd.get(i + 1);
      if (row === undefined) return undefined;
      const {
        ord: _ord,
        audit_id: _audit,
        actor_user_id: _actor,
        detail: _detail,
        at: _at,
        ...key
      } = row as typeof row & Record<'audit_id' | 'actor_user_id' | 'detail' | 'at', unknown>;
      return key as Selectable<ProviderKeysTable>;
    });
  };
  return gather({ send: read });
}

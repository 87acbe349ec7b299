import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/audit-log.ts';
import type { DB } from '../db/schema.ts';
import type { KeyRing } from './key-ring.ts';
import { providerKeyAad } from './provider-key-aad.ts';
import { seal, unseal } from './seal.ts';

/** Options of a rewrap. */
export interface RewrapOptions {
  /** Rows read per batch (default 100). */
  readonly batchSize?: number;
  /** Stop after this many batches (the next call resumes). Default: until every row is done. */
  readonly maxBatches?: number;
  /** Stop before the next batch once aborted. */
  readonly signal?: AbortSignal;
}

/** What a rewrap did. */
export interface RewrapReport {
  /** The key every rewrapped row is now sealed with. */
  readonly activeKeyId: string;
  /** Rows re-encrypted to the active key. */
  readonly rewrapped: number;
  /** Rows that changed while being rewrapped (a save re-encrypted them already): left alone. */
  readonly skipped: number;
  /** Rows that could not be opened (their key is not in the ring, or they were altered): left as they are. */
  readonly failed: number;
  readonly batches: number;
  /** False when `maxBatches` or `signal` stopped the scan early: call again to resume. */
  readonly complete: boolean;
  /** Rows still not on the active key, by key id, counted at the end (failed rows included). */
  readonly remainingByKeyId: Readonly<Record<string, number>>;
}

/**
 * Re-encrypts every `provider_keys` row not sealed with the ring's active key, batch by batch, in
 * id order. Each row is one compare-and-set `UPDATE … WHERE id = ? AND key_id = old AND ciphertext
 * = old` (its own short transaction): a row a concurrent save replaced is skipped, not overwritten,
 * and a killed rewrap resumes where the rows still say `key_id = old`. Each batch is audited as
 * `vault.rewrapped` with counts per key id.
 * @internal
 */
export async function rewrapProviderKeys(args: {
  readonly db: Kysely<DB>;
  readonly ring: KeyRing;
  readonly now: () => Date;
  /** Called for each encryption (the vault's per-key counter). */
  readonly onSeal: (keyId: string) => void;
  readonly options: RewrapOptions;
}): Promise<RewrapReport> {
  const { db, ring, options } = args;
  const active = ring.active.id;
  const batchSize = Math.max(1, Math.trunc(options.batchSize ?? 100));
  let cursor = '';
  let rewrapped = 0;
  let skipped = 0;
  let failed = 0;
  let batches = 0;
  let complete = false;
  for (;;) {
    if ((options.maxBatches !== undefined && batches >= options.maxBatches) || options.signal?.aborted) break;
    const rows = await db
      .selectFrom('provider_keys')
      .select(['id', 'user_id', 'provider_id', 'key_id', 'ciphertext'])
      .where('key_id', '<>', active)
      .where('id', '>', cursor)
      .orderBy('id')
      .limit(batchSize)
      .execute();
    if (rows.length === 0) {
      complete = true;
      break;
    }
    batches++;
    const moved: Record<string, number> = {};
    const batch = { rewrapped: 0, skipped: 0, failed: 0 };
    for (const row of rows) {
      cursor = row.id;
      const context = { userId: row.user_id, providerId: row.provider_id };
      let plaintext: Buffer;
      try {
        plaintext = unseal({
          ring,
          keyId: row.key_id,
          sealed: row.ciphertext,
          aad: providerKeyAad({ ...context, keyId: row.key_id }),
        });
      } catch {
        batch.failed++;
        continue;
      }
      const next = seal({ ring, plaintext, aad: (keyId) => providerKeyAad({ ...context, keyId }) });
      plaintext.fill(0);
      args.onSeal(next.keyId);
      const result = await db
        .updateTable('provider_keys')
        .set({ key_id: next.keyId, ciphertext: next.sealed })
        .where('id', '=', row.id)
        .where('key_id', '=', row.key_id)
        .where('ciphertext', '=', row.ciphertext)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 1) {
        batch.rewrapped++;
        moved[row.key_id] = (moved[row.key_id] ?? 0) + 1;
      } else {
        batch.skipped++;
      }
    }
    rewrapped += batch.rewrapped;
    skipped += batch.skipped;
    failed += batch.failed;
    await recordAudit(db, {
      actorUserId: null,
      subjectUserId: null,
      action: 'vault.rewrapped',
      target: active,
      detail: { toKeyId: active, fromKeyIds: moved, ...batch },
      at: args.now(),
    });
  }
  const remaining = await db
    .selectFrom('provider_keys')
    .select((eb) => ['key_id', eb.fn.countAll<number>().as('rows')])
    .where('key_id', '<>', active)
    .groupBy('key_id')
    .execute();
  return {
    activeKeyId: active,
    rewrapped,
    skipped,
    failed,
    batches,
    complete,
    remainingByKeyId: Object.fromEntries(remaining.map((row) => [row.key_id, Number(row.rows)])),
  };
}

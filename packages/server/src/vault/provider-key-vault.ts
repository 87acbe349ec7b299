import type { ProviderRegistry } from '@vidgenie/nodes';
import { type Kysely, type Selectable, sql } from 'kysely';
import { assertNoSecretNames, recordAudit } from '../audit/audit-log.ts';
import { gather } from '../db/gather.ts';
import type { DB, KeyStatus, ProviderKeysTable } from '../db/schema.ts';
import { ApiError } from '../errors/api-error.ts';
import { newId } from '../ids/new-id.ts';
import { checkProviderKey } from './check-provider-key.ts';
import type { KeyRing } from './key-ring.ts';
import { createKeyUseReader } from './key-use-reader.ts';
import { providerKeyAad } from './provider-key-aad.ts';
import { lastFourOf, normalizeProviderKey } from './provider-key-input.ts';
import { type ProviderKeySlot, providerKeySlots } from './provider-key-slots.ts';
import { ageInDays } from './resolve-key-ring.ts';
import { type RewrapOptions, type RewrapReport, rewrapProviderKeys } from './rewrap-provider-keys.ts';
import { seal, UnsealError, unseal } from './seal.ts';

/** A saved key as Settings shows it: never the key, only its last four characters and status. */
export interface ProviderKeyEntry {
  /** The key name (`openai`, `stability`…). */
  readonly providerId: string;
  readonly label: string;
  /** The key's last four characters (empty for keys under 12 characters). */
  readonly lastFour: string;
  readonly status: KeyStatus;
  /** Why, in a sentence (null until the key is tested). */
  readonly statusReason: string | null;
  readonly checkedAt: Date | null;
  /** When the key was saved or last replaced. */
  readonly updatedAt: Date;
  /** Ids of the providers that use this key. */
  readonly providers: readonly string[];
}

/** Who asks, for the audit log. */
interface Actor {
  readonly actorUserId: string;
  /** The client's address. */
  readonly ip?: string | null | undefined;
}

/** Arguments of {@link ProviderKeyVault.save}. */
export interface SaveProviderKeyArgs extends Actor {
  readonly userId: string;
  /** The key name (`openai`, `stability`, `runway`, `gemini`…). */
  readonly providerId: string;
  /** The key as typed (trimmed here). */
  readonly key: string;
}

/** Arguments of {@link ProviderKeyVault.remove}. */
export interface RemoveProviderKeyArgs extends Actor {
  readonly userId: string;
  readonly providerId: string;
}

/** Arguments of {@link ProviderKeyVault.test}. */
export interface TestProviderKeyArgs extends Actor {
  readonly userId: string;
  readonly providerId: string;
  /** Aborts the check (e.g. the client went away). */
  readonly signal?: AbortSignal;
}

/** Arguments of {@link ProviderKeyVault.decryptForUse}. */
export interface DecryptProviderKeyArgs {
  readonly userId: string;
  readonly providerId: string;
  /** Why the key is needed, for the audit log (e.g. `run`, `enhance`). */
  readonly purpose: string;
  readonly runId?: string | undefined;
  /** Who triggered it (default: the user). */
  readonly actorUserId?: string | undefined;
}

/** The vault's keys and rows, for a metric and the start-up log. */
export interface VaultKeyStats {
  readonly activeKeyId: string;
  /** From the ring (key file or dated env entry), else the first time this deployment used the key. */
  readonly activeKeyCreatedAt: Date;
  readonly activeKeyAgeDays: number;
  readonly rotationDays: number;
  /** True when the active key is at least `rotationDays` old. */
  readonly rotationDue: boolean;
  /** Stored keys per ring key id. */
  readonly rowsByKeyId: Readonly<Record<string, number>>;
  /** Rows a rewrap still has to move. */
  readonly rowsNotOnActiveKey: number;
  /** Key ids rows use that the ring does not have: those rows cannot be decrypted. */
  readonly unknownKeyIds: readonly string[];
  /** Encryptions per key id by this process since it started (GCM: keep far below 2^32 per key). */
  readonly encryptionsByKeyId: Readonly<Record<string, number>>;
}

/** The BYOK key vault: users' provider keys, sealed with AES-256-GCM, every access audited. */
export interface ProviderKeyVault {
  /** The ring in use. */
  readonly ring: KeyRing;
  /** The keys this deployment's providers need, for Settings' empty slots. */
  slots(): readonly ProviderKeySlot[];
  /**
   * Saves or replaces a user's key (one transaction with its audit event). A replaced key is
   * `unchecked` again. 400 `VALIDATION_FAILED` for an unknown key name or a malformed key.
   */
  save(args: SaveProviderKeyArgs): Promise<ProviderKeyEntry>;
  /** A user's keys, masked, by key name. */
  list(userId: string): Promise<readonly ProviderKeyEntry[]>;
  /** Deletes a user's key; 404 `NOT_FOUND` if there is none. */
  remove(args: RemoveProviderKeyArgs): Promise<void>;
  /**
   * Checks a key with its provider and stores the outcome: `valid`, `invalid` or, when the
   * provider could not be asked, `unchecked`, each with a reason. 404 without a key; 409 if the
   * key was replaced or removed during the check.
   */
  test(args: TestProviderKeyArgs): Promise<ProviderKeyEntry>;
  /** The plaintext key for a provider call, audited. 404 `NOT_FOUND` ("add your … key in Settings") without one. */
  decryptForUse(args: DecryptProviderKeyArgs): Promise<string>;
  /** Re-encrypts rows sealed with older keys to the active key; resumable. */
  rewrap(options?: RewrapOptions): Promise<RewrapReport>;
  /** Rows per key id, the active key's age and the encryption counters. */
  keyStats(): Promise<VaultKeyStats>;
  /** Switches to a ring that holds every current key plus newer ones (in-process rotation). */
  useKeyRing(next: KeyRing): void;
}

/** Options of {@link createProviderKeyVault}. */
export interface ProviderKeyVaultOptions {
  readonly db: Kysely<DB>;
  readonly ring: KeyRing;
  readonly providers: ProviderRegistry;
  /** The clock (tests move it). Default `() => new Date()`. */
  readonly now?: () => Date;
  /** Days after which the active key is due for rotation (default 90). */
  readonly rotationDays?: number;
  /** How long `test` waits for the provider, in ms (default 20 000). */
  readonly testTimeoutMs?: number;
}

type Row = Selectable<ProviderKeysTable>;

/**
 * Creates the key vault over the `provider_keys` table. Key names come from the providers'
 * `key.secret`, so `openai-text` and `openai-image` share the `openai` key.
 *
 * @example
 * ```ts
 * import { createOpenAiTextProvider, createProviderRegistry } from '@vidgenie/nodes';
 * import { createKeyRing, createProviderKeyVault, generateVaultKey, migrateToLatest, openDatabase } from '@vidgenie/server';
 * const { db, close } = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
 * await migrateToLatest(db);
 * await db.insertInto('users').values({ id: 'usr_1', email: 'ada@example.com', password_hash: 'x' }).execute();
 * const vault = createProviderKeyVault({
 *   db,
 *   ring: createKeyRing([{ id: 'k1', key: generateVaultKey() }]),
 *   providers: createProviderRegistry([createOpenAiTextProvider()]),
 * });
 * const saved = await vault.save({ userId: 'usr_1', providerId: 'openai', key: 'sk-example-0000-abcd', actorUserId: 'usr_1' });
 * console.log(saved.lastFour, saved.status); // abcd unchecked
 * await close();
 * ```
 */
export function createProviderKeyVault(options: ProviderKeyVaultOptions): ProviderKeyVault {
  const { db } = options;
  const now = options.now ?? (() => new Date());
  const rotationDays = options.rotationDays ?? 90;
  const testTimeoutMs = options.testTimeoutMs ?? 20_000;
  const slots = providerKeySlots(options.providers);
  const slotById = new Map(slots.map((slot) => [slot.providerId, slot]));
  const readForUse = createKeyUseReader(db);
  // Lists gathered: a burst of runs accepted at once (each checks its owner's keys) makes a few
  // statements, not one per run.
  const listRows = gather<string, Selectable<ProviderKeysTable>[]>({
    send: async (userIds) => {
      const rows = await db
        .selectFrom('provider_keys')
        .selectAll()
        .where(sql<boolean>`user_id = any(${[...new Set(userIds)]}::text[])`)
        .orderBy('provider_id')
        .execute();
      const byUser = new Map<string, Selectable<ProviderKeysTable>[]>();
      for (const row of rows) byUser.set(row.user_id, [...(byUser.get(row.user_id) ?? []), row]);
      return userIds.map((userId) => byUser.get(userId) ?? []);
    },
  });
  const encryptions = new Map<string, number>();
  let ring = options.ring;

  const countSeal = (keyId: string) => encryptions.set(keyId, (encryptions.get(keyId) ?? 0) + 1);
  const labelOf = (providerId: string) => slotById.get(providerId)?.label ?? `${providerId} key`;

  const slotFor = (providerId: string): ProviderKeySlot => {
    const slot = slotById.get(providerId);
    if (slot !== undefined) return slot;
    const known = slots.map((s) => s.providerId);
    const message = `"${providerId.slice(0, 64)}" is not a provider key this server uses. Known keys: ${known.join(', ') || 'none'}.`;
    throw new ApiError('VALIDATION_FAILED', message, {
      details: { issues: [{ path: 'providerId', message }], known },
    });
  };

  const toEntry = (row: Row): ProviderKeyEntry => ({
    providerId: row.provider_id,
    label: labelOf(row.provider_id),
    lastFour: row.last_four,
    status: row.status,
    statusReason: row.status_reason,
    checkedAt: row.checked_at,
    updatedAt: row.updated_at,
    providers: slotById.get(row.provider_id)?.providers.map((p) => p.id) ?? [],
  });

  const findRow = (userId: string, providerId: string) =>
    db
      .selectFrom('provider_keys')
      .selectAll()
      .where('user_id', '=', userId)
      .where('provider_id', '=', providerId)
      .executeTakeFirst();

  /** Opens a row, or audits the failure and throws one error whatever the cause. */
  const openRow = async (row: Row, actorUserId: string): Promise<string> => {
    const current = ring;
    try {
      if (current.find(row.key_id) === undefined) throw new UnsealError();
      return unseal({
        ring: current,
        keyId: row.key_id,
        sealed: row.ciphertext,
        aad: providerKeyAad({ userId: row.user_id, providerId: row.provider_id, keyId: row.key_id }),
      }).toString('utf8');
    } catch (error) {
      await recordAudit(db, {
        actorUserId,
        subjectUserId: row.user_id,
        action: 'provider_key.decrypt_failed',
        target: row.provider_id,
        detail: {
          providerId: row.provider_id,
          keyId: row.key_id,
          cause: current.find(row.key_id) === undefined ? 'key_not_in_ring' : 'unseal_failed',
        },
        at: now(),
      });
      throw new ApiError(
        'SERVICE_UNAVAILABLE',
        `Your ${labelOf(row.provider_id)} could not be decrypted on this server: save it again in Settings.`,
        { details: { providerId: row.provider_id }, cause: error },
      );
    }
  };

  const noKey = (providerId: string, message: string) =>
    new ApiError('NOT_FOUND', message, { details: { providerId } });

  const firstUse = async (keyId: string): Promise<Date> => {
    const seen = await db
      .selectFrom('audit_log')
      .select((eb) => eb.fn.min('created_at').as('first'))
      .where('action', '=', 'vault.key_activated')
      .where('target', '=', keyId)
      .executeTakeFirst();
    if (seen?.first != null) return new Date(seen.first);
    const at = now();
    await recordAudit(db, {
      actorUserId: null,
      subjectUserId: null,
      action: 'vault.key_activated',
      target: keyId,
      detail: { keyId, source: ring.source },
      at,
    });
    return at;
  };

  const vault: ProviderKeyVault = {
    get ring() {
      return ring;
    },

    slots: () => slots,

    async save(args) {
      const slot = slotFor(args.providerId);
      const key = normalizeProviderKey(args.key, slot.label);
      const lastFour = lastFourOf(key);
      const { keyId, sealed } = seal({
        ring,
        plaintext: key,
        aad: (id) => providerKeyAad({ userId: args.userId, providerId: slot.providerId, keyId: id }),
      });
      countSeal(keyId);
      const at = now();
      const row = await db.transaction().execute(async (trx) => {
        const saved = await trx
          .insertInto('provider_keys')
          .values({
            // A new id per key value: a test of the previous value cannot overwrite this one's status.
            id: newId('key'),
            user_id: args.userId,
            provider_id: slot.providerId,
            key_id: keyId,
            ciphertext: sealed,
            last_four: lastFour,
            status: 'unchecked',
            status_reason: null,
            checked_at: null,
            created_at: at,
            updated_at: at,
          })
          .onConflict((conflict) =>
            conflict.columns(['user_id', 'provider_id']).doUpdateSet((eb) => ({
              id: eb.ref('excluded.id'),
              key_id: eb.ref('excluded.key_id'),
              ciphertext: eb.ref('excluded.ciphertext'),
              last_four: eb.ref('excluded.last_four'),
              status: 'unchecked',
              status_reason: null,
              checked_at: null,
              updated_at: eb.ref('excluded.updated_at'),
            })),
          )
          .returningAll()
          // xmax is 0 for a freshly inserted row, the locking transaction for an updated one.
          .returning(sql<boolean>`xmax = 0`.as('inserted'))
          .executeTakeFirstOrThrow();
        await recordAudit(trx, {
          actorUserId: args.actorUserId,
          subjectUserId: args.userId,
          action: saved.inserted ? 'provider_key.saved' : 'provider_key.replaced',
          target: slot.providerId,
          detail: { providerId: slot.providerId, keyId, lastFour },
          ip: args.ip,
          at,
        });
        return saved;
      });
      return toEntry(row);
    },

    async list(userId) {
      return (await listRows(userId)).map(toEntry);
    },

    async remove(args) {
      const at = now();
      const removed = await db.transaction().execute(async (trx) => {
        const row = await trx
          .deleteFrom('provider_keys')
          .where('user_id', '=', args.userId)
          .where('provider_id', '=', args.providerId)
          .returning(['key_id', 'last_four'])
          .executeTakeFirst();
        if (row === undefined) return false;
        await recordAudit(trx, {
          actorUserId: args.actorUserId,
          subjectUserId: args.userId,
          action: 'provider_key.deleted',
          target: args.providerId,
          detail: { providerId: args.providerId, keyId: row.key_id, lastFour: row.last_four },
          ip: args.ip,
          at,
        });
        return true;
      });
      if (!removed) throw noKey(args.providerId, `No ${labelOf(args.providerId)} is saved.`);
    },

    async test(args) {
      const slot = slotFor(args.providerId);
      const row = await findRow(args.userId, slot.providerId);
      if (row === undefined)
        throw noKey(slot.providerId, `No ${slot.label} is saved: add it in Settings first.`);
      const key = await openRow(row, args.actorUserId);
      const check = await checkProviderKey({
        providers: options.providers.list().filter((p) => p.key?.secret === slot.providerId),
        label: slot.label,
        key,
        signal: args.signal ?? new AbortController().signal,
        timeoutMs: testTimeoutMs,
      });
      const at = now();
      const updated = await db.transaction().execute(async (trx) => {
        const stored = await trx
          .updateTable('provider_keys')
          .set({ status: check.status, status_reason: check.reason, checked_at: at })
          .where('id', '=', row.id)
          .returningAll()
          .executeTakeFirst();
        if (stored === undefined) return undefined;
        await recordAudit(trx, {
          actorUserId: args.actorUserId,
          subjectUserId: args.userId,
          action: 'provider_key.tested',
          target: slot.providerId,
          detail: { providerId: slot.providerId, keyId: row.key_id, status: check.status },
          ip: args.ip,
          at,
        });
        return stored;
      });
      if (updated === undefined) {
        throw new ApiError(
          'CONFLICT',
          `Your ${slot.label} was replaced or removed during the test: test it again.`,
        );
      }
      return toEntry(updated);
    },

    async decryptForUse(args) {
      const actorUserId = args.actorUserId ?? args.userId;
      const detail = {
        providerId: args.providerId,
        purpose: args.purpose.slice(0, 100),
        ...(args.runId === undefined ? {} : { runId: args.runId }),
      };
      assertNoSecretNames(detail);
      // The read and its audit record in one statement (shared with other reads made meanwhile):
      // the record is committed before the key is opened (an opening that then fails adds
      // provider_key.decrypt_failed).
      const row = await readForUse({
        userId: args.userId,
        providerId: args.providerId,
        actorUserId,
        detail,
        at: now(),
      });
      if (row === undefined) {
        const slot = slotById.get(args.providerId);
        const users =
          slot === undefined ? '' : ` to use ${slot.providers.map((p) => p.displayName).join(' or ')}`;
        throw noKey(args.providerId, `Add your ${labelOf(args.providerId)} in Settings${users}.`);
      }
      return await openRow(row, actorUserId);
    },

    rewrap: (rewrapOptions = {}) =>
      rewrapProviderKeys({ db, ring, now, onSeal: countSeal, options: rewrapOptions }),

    async keyStats() {
      const current = ring;
      const rows = await db
        .selectFrom('provider_keys')
        .select((eb) => ['key_id', eb.fn.countAll<number>().as('rows')])
        .groupBy('key_id')
        .execute();
      const rowsByKeyId = Object.fromEntries(rows.map((row) => [row.key_id, Number(row.rows)]));
      const createdAt = current.active.createdAt ?? (await firstUse(current.active.id));
      const age = ageInDays({ id: current.active.id, createdAt }, now()) ?? 0;
      return {
        activeKeyId: current.active.id,
        activeKeyCreatedAt: createdAt,
        activeKeyAgeDays: age,
        rotationDays,
        rotationDue: age >= rotationDays,
        rowsByKeyId,
        rowsNotOnActiveKey: rows
          .filter((row) => row.key_id !== current.active.id)
          .reduce((sum, row) => sum + Number(row.rows), 0),
        unknownKeyIds: rows.map((row) => row.key_id).filter((id) => current.find(id) === undefined),
        encryptionsByKeyId: Object.fromEntries(encryptions),
      };
    },

    useKeyRing(next) {
      const missing = ring.keys.filter((key) => next.find(key.id) === undefined).map((key) => key.id);
      if (missing.length > 0) {
        throw new TypeError(
          `The new key ring lacks key(s) ${missing.join(', ')}: rows sealed with them would not open.`,
        );
      }
      ring = next;
    },
  };
  return Object.freeze(vault);
}

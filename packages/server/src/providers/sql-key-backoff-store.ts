import { type Kysely, sql } from 'kysely';
import { gather } from '../db/gather.ts';
import { prepared } from '../db/prepared-statements.ts';
import type { DB } from '../db/schema.ts';
import type { KeyBackoffState, KeyBackoffStore } from './key-backoff-store.ts';

/** The channel told a key's hash when a back-off of it is struck or cleared (payload: the hash only). */
export const KEY_BACKOFF_CHANNEL = 'vidgenie_key_backoff';

/** Options of {@link createSqlKeyBackoffStore}. */
export interface SqlKeyBackoffStoreOptions {
  readonly db: Kysely<DB>;
  /**
   * How long an answer is reused before the database is asked again, in ms. Default 500; 0 asks
   * every time. See {@link createSqlKeyBackoffStore} for the trade-off.
   */
  readonly cacheMs?: number;
  /**
   * How long an answer is reused while this process hears {@link KEY_BACKOFF_CHANNEL} (see
   * {@link SqlKeyBackoffStore.listening}), in ms. Default 60,000: a change made elsewhere is heard
   * at once, so the cache only bounds how long a lost notification could go unnoticed.
   */
  readonly listeningCacheMs?: number;
  /** The local clock of the cache, in ms (tests move it). Default `Date.now`. */
  readonly now?: () => number;
}

/** A {@link KeyBackoffStore} that other processes' strikes and clears reach through notifications. */
export interface SqlKeyBackoffStore extends KeyBackoffStore {
  /**
   * A process struck or cleared the key (a notification on {@link KEY_BACKOFF_CHANNEL}; this
   * process's own come back too): forgets it, so the next read asks the database.
   */
  heard(keyHash: string): void;
  /**
   * Whether this process hears {@link KEY_BACKOFF_CHANNEL} now (the event bridge's connection is
   * listening). While it does, answers are reused for `listeningCacheMs` instead of `cacheMs`.
   * Either change forgets every answer: notifications may have been missed meanwhile.
   */
  listening(on: boolean): void;
}

/** What this process last learnt about a key, by its own clock. */
interface Known {
  /** When it was learnt. */
  readonly at: number;
  /** When the back-off ends. */
  readonly until: number;
  readonly strikes: number;
}

/** The wait left of a row's back-off, in ms, by the database clock (0 when it is over). */
const WAIT_MS = sql<number>`greatest(0, ceil(extract(epoch from (until - now())) * 1000))::float8`;

/** Entries kept before old ones are dropped. */
const MAX_CACHED = 10_000;

/**
 * A {@link KeyBackoffStore} in the `provider_key_backoffs` table (migration 0008): workers on
 * several machines share it, so a 429 on one makes the others wait. `until` is set from the
 * database clock (`now()`), and reads answer the time left by that same clock, so machines' clocks
 * need not agree.
 *
 * Reads are cheap: an answer is reused for `cacheMs` (default 500 ms), concurrent reads of a key
 * share one query, and reads of many keys gather into few statements in a burst. A busy worker asks
 * the database at most about twice a second per key in use.
 * The trade-off: another machine's new back-off is seen up to `cacheMs` late, so this machine may
 * send a few calls that meet a 429 too (they fail and are retried as before; they do not add
 * strikes). This process's own 429s and successes update its cache at once. A strike takes one
 * short transaction (a row lock on the key's row); a success writes only when strikes are known.
 *
 * Strikes and clears also notify {@link KEY_BACKOFF_CHANNEL} with the key's hash. A process that
 * hears it (the event bridge calls {@link SqlKeyBackoffStore.heard} and
 * {@link SqlKeyBackoffStore.listening}) sees other machines' back-offs at once and keeps its
 * answers for `listeningCacheMs` (60 s): a key in use is read about once a minute, not before
 * every provider call.
 *
 * @example
 * ```ts
 * import { createSqlKeyBackoffStore, migrateToLatest, openDatabase } from '@vidgenie/server';
 * const database = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
 * await migrateToLatest(database.db);
 * const store = createSqlKeyBackoffStore({ db: database.db });
 * await store.strike('0'.repeat(64), () => 1_000);
 * console.log((await store.read('0'.repeat(64))).waitMs > 0); // true
 * await database.close();
 * ```
 */
export function createSqlKeyBackoffStore(options: SqlKeyBackoffStoreOptions): SqlKeyBackoffStore {
  const { db } = options;
  const cacheMs = Math.max(0, options.cacheMs ?? 500);
  const listeningCacheMs = Math.max(0, options.listeningCacheMs ?? 60_000);
  const now = options.now ?? Date.now;
  let hearing = false;
  /** How long an answer is reused now. */
  const ttl = () => (hearing ? listeningCacheMs : cacheMs);
  const known = new Map<string, Known>();
  /**
   * Bumped by every strike and clear, here or heard of, so that a read started before one does
   * not undo it.
   */
  let generation = 0;
  const reading = new Map<string, Promise<KeyBackoffState>>();

  const view = (entry: Known): KeyBackoffState => ({
    waitMs: Math.max(0, entry.until - now()),
    strikes: entry.strikes,
  });
  const learn = (keyHash: string, state: KeyBackoffState): KeyBackoffState => {
    const at = now();
    if (known.size >= MAX_CACHED) {
      for (const [hash, entry] of known) if (at - entry.at >= ttl() && entry.until <= at) known.delete(hash);
    }
    known.set(keyHash, { at, until: at + state.waitMs, strikes: state.strikes });
    return state;
  };

  /** Reads keys together (see {@link gather}): a burst of provider calls makes a few statements. */
  const readKeys = gather<string, { waitMs: number; strikes: number; started: number }>({
    send: async (keyHashes) => {
      const started = generation;
      const { rows } = await sql<{
        key_hash: string;
        wait_ms: number;
        strikes: number;
      }>`${prepared('key-backoffs.read')}
        select key_hash, ${WAIT_MS} as wait_ms, strikes
          from provider_key_backoffs where key_hash = any(${keyHashes}::text[])`.execute(db);
      const found = new Map(rows.map((row) => [row.key_hash, row]));
      return keyHashes.map((keyHash) => {
        const row = found.get(keyHash);
        return { waitMs: Number(row?.wait_ms ?? 0), strikes: Number(row?.strikes ?? 0), started };
      });
    },
  });
  const query = async (keyHash: string): Promise<KeyBackoffState> => {
    const { started, ...state } = await readKeys(keyHash);
    if (generation === started) learn(keyHash, state);
    return state;
  };

  return {
    read(keyHash) {
      const entry = known.get(keyHash);
      if (entry !== undefined && now() - entry.at < ttl()) return Promise.resolve(view(entry));
      const pending = reading.get(keyHash);
      if (pending !== undefined) return pending;
      const next = query(keyHash).finally(() => reading.delete(keyHash));
      reading.set(keyHash, next);
      return next;
    },

    async strike(keyHash, delayFor) {
      generation++;
      const state = await db.transaction().execute(async (trx) => {
        await sql`insert into provider_key_backoffs (key_hash, until, strikes)
          values (${keyHash}, now(), 0) on conflict (key_hash) do nothing`.execute(trx);
        const { rows: current } = await sql<{ strikes: number; ended: boolean }>`
          select strikes, until <= now() as ended from provider_key_backoffs
          where key_hash = ${keyHash} for update`.execute(trx);
        const row = current[0] ?? { strikes: 0, ended: true };
        const strikes = row.ended ? Number(row.strikes) + 1 : Number(row.strikes);
        const delayMs = Math.max(0, Math.round(delayFor(strikes)));
        const { rows } = await sql<{ wait_ms: number; strikes: number }>`
          with struck as (
            update provider_key_backoffs
            set strikes = ${strikes}, until = greatest(until, now() + ${delayMs}::float8 * interval '1 millisecond')
            where key_hash = ${keyHash}
            returning key_hash, ${WAIT_MS} as wait_ms, strikes
          )
          select wait_ms, strikes, pg_notify(${KEY_BACKOFF_CHANNEL}, key_hash) from struck`.execute(trx);
        return { waitMs: Number(rows[0]?.wait_ms ?? delayMs), strikes };
      });
      return learn(keyHash, state);
    },

    async clear(keyHash) {
      const entry = known.get(keyHash);
      // Nothing to forget: the usual case, answered without the database.
      if (entry !== undefined && entry.strikes === 0 && entry.until <= now()) return;
      generation++;
      const { rows } = await sql<{ key_hash: string }>`
        with cleared as (
          delete from provider_key_backoffs where key_hash = ${keyHash} and until <= now() returning key_hash
        )
        select key_hash, pg_notify(${KEY_BACKOFF_CHANNEL}, key_hash) from cleared`.execute(db);
      if (rows.length > 0) learn(keyHash, { waitMs: 0, strikes: 0 });
      else known.delete(keyHash);
    },

    heard(keyHash) {
      generation++;
      known.delete(keyHash);
    },

    listening(on) {
      generation++;
      hearing = on;
      known.clear();
    },
  };
}

import type { ColumnType, Generated, Insertable, JSONColumnType, Selectable, Updateable } from 'kysely';

/** A timestamp column: read as `Date`, written as `Date` or an ISO string, defaulted by the database. */
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

/** The roles a user can have. */
export type UserRole = 'user' | 'admin';
/** Subscription plans (PRD 5.2). */
export type PlanId = 'free' | 'starter' | 'pro' | 'enterprise';
/** Where a provider key stands after its last test. */
export type KeyStatus = 'valid' | 'invalid' | 'unchecked';
/** Life of a credit hold: pending until released (what was not captured is returned) or expired by the sweeper. */
export type HoldState = 'pending' | 'released' | 'expired';
/** Kinds of ledger entry. */
export type LedgerEntryKind =
  | 'grant'
  | 'renewal'
  | 'purchase'
  | 'reserve'
  | 'capture'
  | 'release'
  | 'expire'
  | 'adjustment';

/** `users`: one row per account. Emails are stored lower-cased. */
export interface UsersTable {
  id: string;
  email: string;
  password_hash: string;
  role: ColumnType<UserRole, UserRole | undefined, UserRole>;
  created_at: CreatedAt;
}

/** `sessions`: server-side sessions; only the SHA-256 of the cookie token is stored. */
export interface SessionsTable {
  token_hash: string;
  user_id: string;
  created_at: CreatedAt;
  last_seen_at: Timestamp;
  expires_at: Timestamp;
}

/** `api_tokens`: personal Bearer tokens; only the SHA-256 of the token is stored. */
export interface ApiTokensTable {
  id: string;
  user_id: string;
  name: string;
  token_hash: string;
  /** The token's visible prefix (`vgt_` plus 4 characters), to tell tokens apart in a list. */
  prefix: string;
  created_at: CreatedAt;
  last_used_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
}

/** `provider_keys`: one encrypted key per (user, provider id). `ciphertext` is the only column that depends on the key's value besides `last_four`. */
export interface ProviderKeysTable {
  id: string;
  user_id: string;
  provider_id: string;
  /** The id of the key-ring key that encrypted this row (bound into the AAD). */
  key_id: string;
  /** `version(1) | iv(12) | tag(16) | ciphertext`. */
  ciphertext: Buffer;
  last_four: string;
  status: ColumnType<KeyStatus, KeyStatus | undefined, KeyStatus>;
  status_reason: ColumnType<string | null, string | null | undefined, string | null>;
  checked_at: NullableTimestamp;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

/** `audit_log`: who did what to which key or account, when. Never a secret. */
export interface AuditLogTable {
  id: string;
  actor_user_id: string | null;
  subject_user_id: string | null;
  action: string;
  target: string | null;
  detail: JSONColumnType<
    Record<string, unknown>,
    Record<string, unknown> | undefined,
    Record<string, unknown>
  >;
  ip: string | null;
  created_at: CreatedAt;
}

/** `credit_accounts`: one per user; `held` is the sum of pending holds. */
export interface CreditAccountsTable {
  user_id: string;
  plan: PlanId;
  balance: number;
  held: ColumnType<number, number | undefined, number>;
  /** Enterprise: reservations never fail for lack of balance, and the balance may go negative. */
  unlimited: ColumnType<boolean, boolean | undefined, boolean>;
  /** The account's own daily credit cap (migration 0007); null uses `VIDGENIE_DAILY_CREDIT_CAP`. */
  daily_credit_cap: ColumnType<number | null, number | null | undefined, number | null>;
  /** The last UTC day with a capture (kept by a trigger on `ledger_entries`). */
  captured_day: ColumnType<Date | string | null, never, never>;
  /** What the captures of `captured_day` charged (kept by the same trigger). */
  captured_today: ColumnType<number, never, never>;
  period_start: Timestamp;
  renews_at: Timestamp;
  updated_at: Timestamp;
}

/** `credit_holds`: two-phase transfers (reserve → capture per node → release the rest). */
export interface CreditHoldsTable {
  id: string;
  user_id: string;
  run_id: string;
  amount: number;
  captured: ColumnType<number, number | undefined, number>;
  /** What the release (or expiry) returned; null while pending. */
  returned: ColumnType<number | null, number | null | undefined, number | null>;
  state: ColumnType<HoldState, HoldState | undefined, HoldState>;
  expires_at: Timestamp;
  created_at: CreatedAt;
  resolved_at: NullableTimestamp;
}

/** `credit_captures`: at most one per (hold, node). */
export interface CreditCapturesTable {
  hold_id: string;
  node_id: string;
  amount: number;
  created_at: CreatedAt;
}

/** `ledger_entries`: append-only (a trigger refuses UPDATE and DELETE); balances can be recomputed from it. */
export interface LedgerEntriesTable {
  id: string;
  /** Orders entries (history pages, reconciliation) independently of clock ties. */
  seq: Generated<number>;
  user_id: string;
  kind: LedgerEntryKind;
  /** Change to the balance (negative for a capture). */
  balance_delta: number;
  /** Change to the held amount. */
  held_delta: number;
  balance_after: number;
  held_after: number;
  reason: string;
  run_id: string | null;
  node_id: string | null;
  hold_id: string | null;
  idempotency_key: string;
  actor_user_id: string | null;
  created_at: CreatedAt;
}

/** `idempotency_keys`: stored responses of requests sent with an `Idempotency-Key` header. */
export interface IdempotencyKeysTable {
  user_id: string;
  key: string;
  request_hash: string;
  status_code: number;
  response_body: JSONColumnType<object, object, object>;
  created_at: CreatedAt;
}

/** The typed database: one interface per table. */
export interface DB {
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  provider_keys: ProviderKeysTable;
  audit_log: AuditLogTable;
  credit_accounts: CreditAccountsTable;
  credit_holds: CreditHoldsTable;
  credit_captures: CreditCapturesTable;
  ledger_entries: LedgerEntriesTable;
  idempotency_keys: IdempotencyKeysTable;
  run_checkpoints: RunCheckpointsTable;
  node_checkpoints: NodeCheckpointsTable;
  runs: RunsTable;
  run_events: RunEventsTable;
  templates: TemplatesTable;
  analytics_events: AnalyticsEventsTable;
  contents: ContentsTable;
  provider_key_backoffs: ProviderKeyBackoffsTable;
  media_orphans: MediaOrphansTable;
}

/** A `users` row as read. */
export type UserRow = Selectable<UsersTable>;
/** A `provider_keys` row as read. */
export type ProviderKeyRow = Selectable<ProviderKeysTable>;
/** A `credit_accounts` row as read. */
export type CreditAccountRow = Selectable<CreditAccountsTable>;
/** A `credit_holds` row as read. */
export type CreditHoldRow = Selectable<CreditHoldsTable>;
/** A `ledger_entries` row as read. */
export type LedgerEntryRow = Selectable<LedgerEntriesTable>;
/** A `ledger_entries` row as written. */
export type NewLedgerEntry = Insertable<LedgerEntriesTable>;
/** An update to `credit_accounts`. */
export type CreditAccountUpdate = Updateable<CreditAccountsTable>;

/** A run's status as stored in `run_checkpoints` (the engine's `RunStatus`). */
export type RunCheckpointStatus = 'running' | 'completed' | 'failed' | 'cancelled';
/** A node's status as stored in `node_checkpoints` (the engine's `NodeStatus`). */
export type NodeCheckpointStatus = 'running' | 'completed' | 'failed';

/**
 * `run_checkpoints`: one engine run. `record` is the engine's `RunRecord` as created (verbatim JSON);
 * `patch` accumulates the `RunPatch` fields saved since (a key set to null was removed). The other
 * columns are extracted for queries and kept equal to the records by CHECK constraints. Every write
 * is conditional on `fence`.
 */
export interface RunCheckpointsTable {
  run_id: string;
  /** The fencing token: 1 at creation, incremented by each claim. */
  fence: ColumnType<number, number | undefined, number>;
  /** The record's checkpoint format (`CHECKPOINT_FORMAT_VERSION` when written). */
  format_version: number;
  status: RunCheckpointStatus;
  /** The highest event sequence number written with a checkpoint. */
  last_seq: ColumnType<number, number | undefined, number>;
  record: JSONColumnType<Record<string, unknown>, string, never>;
  patch: JSONColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: CreatedAt;
  /** The last checkpoint write of any kind (run or node), by the database clock. */
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** `node_checkpoints`: one engine `NodeRecord` per (run, node), replaced on each save. */
export interface NodeCheckpointsTable {
  run_id: string;
  node_id: string;
  status: NodeCheckpointStatus;
  record: JSONColumnType<Record<string, unknown>>;
  /** The run's event sequence number when the record was written. */
  seq: ColumnType<number, number | undefined, number>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** A run's status as the API reports it: `queued` until a slot takes it, then the engine's outcome. */
export type RunRowStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

/**
 * `runs`: one workflow run as the API sees it. `id` is the engine's run id (also the key of its
 * checkpoint and of its credit hold); `graph` is the validated graph as submitted (verbatim JSON).
 */
export interface RunsTable {
  id: string;
  user_id: string;
  status: ColumnType<RunRowStatus, RunRowStatus | undefined, RunRowStatus>;
  graph: JSONColumnType<Record<string, unknown>, string, never>;
  estimated_cost: number;
  /** The credit hold placed when the run was accepted. */
  hold_id: string | null;
  /** The engine's error (`EngineErrorJSON`) for a failed run. */
  error: JSONColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
  started_at: NullableTimestamp;
  finished_at: NullableTimestamp;
  /** For a rerun: the earlier run whose outputs it reuses (migration 0005). */
  parent_run_id: ColumnType<string | null, string | null | undefined, never>;
  /** For a rerun: the node it runs again from (with everything downstream). */
  rerun_from: ColumnType<string | null, string | null | undefined, never>;
  /** The duration estimate given when the run was accepted; null for older runs. */
  estimated_duration_seconds: ColumnType<number | null, number | null | undefined, never>;
  /** The worker holding the run's lease (migration 0009); null when no one does. */
  lease_owner: ColumnType<string | null, never, string | null>;
  /** The fencing token: +1 at each lease acquisition; fenced writes check it. */
  lease_epoch: ColumnType<number, never, number>;
  /** When the lease lapses (database clock); null with no owner. */
  lease_expires_at: ColumnType<Date | null, never, Date | null>;
  /** A cancel asked while the run was leased (the reason); its owner acts on it. */
  cancel_requested: ColumnType<string | null, never, string | null>;
  /** When the run was last handed to an executor: accepted, or a queue job sent for it (distributed mode). */
  dispatched_at: ColumnType<Date | null, never, Date | null>;
}

/** `run_events`: every engine event of a run, under its gap-free sequence number. */
export interface RunEventsTable {
  run_id: string;
  seq: number;
  type: string;
  /** The engine's event as emitted (verbatim JSON). */
  payload: JSONColumnType<Record<string, unknown>, string, never>;
  created_at: CreatedAt;
}

/** A `runs` row as read. */
export type RunRow = Selectable<RunsTable>;

/** `templates`: a user's saved workflow graphs, one name per user (migration 0004). */
export interface TemplatesTable {
  id: string;
  user_id: string;
  name: string;
  /** The graph as saved (verbatim JSON). */
  graph: JSONColumnType<Record<string, unknown>, string, string>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

/** A `templates` row as read. */
export type TemplateRow = Selectable<TemplatesTable>;

/**
 * `contents`: the library, one row per completed run that produced media (migration 0006). Keys
 * are blob store keys (never shown to clients: the API gives URLs of the authorised media route);
 * a rerun's content may share its parent's image key.
 */
export interface ContentsTable {
  id: string;
  user_id: string;
  /** The run that made it (unique: one content per run; same owner, enforced by a foreign key). */
  run_id: string;
  /** The creator's prompt ('' when the graph had no prompt node). */
  prompt: string;
  enhanced_prompt: string | null;
  image_key: string | null;
  video_key: string | null;
  thumbnail_key: string | null;
  /** The video's duration; null without a video. */
  duration_seconds: number | null;
  /** The video's resolution (or the image's, without a video). */
  width: number | null;
  height: number | null;
  /** The video's size in bytes (or the image's, without a video). */
  file_size_bytes: number;
  /** Credits the run captured. */
  cost_credits: number;
  text_provider_id: string | null;
  image_provider_id: string | null;
  video_provider_id: string | null;
  created_at: CreatedAt;
}

/** A `contents` row as read. */
export type ContentRow = Selectable<ContentsTable>;

/**
 * `media_orphans`: blob keys waiting for the media cleanup job (migration 0011): media of failed or
 * cancelled runs, and content blobs kept while a live run used them. The job deletes a key from
 * `eligible_at` on, once no content and no live run references it.
 */
export interface MediaOrphansTable {
  /** The blob key (primary key: a key waits once). */
  key: string;
  /** The owner of the run that made or used it. */
  user_id: string;
  /** The run whose end (or whose content's deletion) queued it. */
  run_id: string | null;
  /** From when the job may delete it. */
  eligible_at: Timestamp;
  created_at: CreatedAt;
}

/** `analytics_events`: the PRD's analytics events (section 13), one row each (migration 0007). */
export interface AnalyticsEventsTable {
  id: string;
  /** Whom it concerns; null for system events, or once the user is deleted. */
  user_id: string | null;
  /** A dotted name, e.g. `workflow.completed`. */
  name: string;
  /** Ids, durations, costs and providers: never a secret, never a prompt's text. */
  properties: JSONColumnType<Record<string, unknown>, string, never>;
  created_at: CreatedAt;
  /** Unique when set: the same event heard by several processes is recorded once. */
  dedupe_key: ColumnType<string | null, string | null | undefined, never>;
}

/**
 * `provider_key_backoffs`: the shared back-off of a provider key after a 429 (migration 0008), by
 * the SHA-256 of (provider id, key); never the key itself.
 */
export interface ProviderKeyBackoffsTable {
  key_hash: string;
  /** When calls with the key may go again (database clock). */
  until: Timestamp;
  /** Consecutive back-offs; the row is deleted by a success after the back-off. */
  strikes: ColumnType<number, number | undefined, number>;
}

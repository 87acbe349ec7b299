import { type Kysely, sql } from 'kysely';

/**
 * Accounts, sessions, API tokens, the key vault, the audit log and the credits ledger.
 * Invariants live in the database: CHECK constraints keep balances and holds in bounds, unique
 * keys make captures and ledger entries at-most-once, and a trigger keeps the ledger append-only.
 */
const statements = [
  `create table users (
    id text primary key,
    email text not null unique check (email = lower(email) and length(email) between 3 and 254),
    password_hash text not null,
    role text not null default 'user' check (role in ('user', 'admin')),
    created_at timestamptz not null default now()
  )`,
  `create table sessions (
    token_hash text primary key,
    user_id text not null references users(id) on delete cascade,
    created_at timestamptz not null default now(),
    last_seen_at timestamptz not null,
    expires_at timestamptz not null
  )`,
  `create index sessions_user_id on sessions(user_id)`,
  `create table api_tokens (
    id text primary key,
    user_id text not null references users(id) on delete cascade,
    name text not null check (length(name) between 1 and 100),
    token_hash text not null unique,
    prefix text not null,
    created_at timestamptz not null default now(),
    last_used_at timestamptz,
    revoked_at timestamptz
  )`,
  `create index api_tokens_user_id on api_tokens(user_id)`,
  `create table provider_keys (
    id text primary key,
    user_id text not null references users(id) on delete cascade,
    provider_id text not null check (provider_id ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    key_id text not null,
    ciphertext bytea not null check (length(ciphertext) > 29),
    last_four text not null check (length(last_four) <= 4),
    status text not null default 'unchecked' check (status in ('valid', 'invalid', 'unchecked')),
    status_reason text,
    checked_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null,
    unique (user_id, provider_id)
  )`,
  `create index provider_keys_key_id on provider_keys(key_id)`,
  `create table audit_log (
    id text primary key,
    actor_user_id text references users(id) on delete set null,
    subject_user_id text references users(id) on delete set null,
    action text not null,
    target text,
    detail jsonb not null default '{}'::jsonb,
    ip text,
    created_at timestamptz not null default now()
  )`,
  `create index audit_log_subject on audit_log(subject_user_id, created_at)`,
  `create table credit_accounts (
    user_id text primary key references users(id) on delete cascade,
    plan text not null check (plan in ('free', 'starter', 'pro', 'enterprise')),
    balance integer not null,
    held integer not null default 0 check (held >= 0),
    unlimited boolean not null default false,
    period_start timestamptz not null,
    renews_at timestamptz not null,
    updated_at timestamptz not null,
    constraint credit_accounts_no_overdraft check (unlimited or (balance >= 0 and held <= balance))
  )`,
  `create table credit_holds (
    id text primary key,
    user_id text not null references credit_accounts(user_id) on delete cascade,
    run_id text not null unique,
    amount integer not null check (amount >= 0),
    captured integer not null default 0 check (captured >= 0 and captured <= amount),
    returned integer check (returned is null or returned >= 0),
    state text not null default 'pending' check (state in ('pending', 'released', 'expired')),
    expires_at timestamptz not null,
    created_at timestamptz not null default now(),
    resolved_at timestamptz,
    constraint credit_holds_resolved check (
      (state = 'pending' and returned is null and resolved_at is null)
      or (state <> 'pending' and returned = amount - captured and resolved_at is not null)
    )
  )`,
  `create index credit_holds_pending on credit_holds(expires_at) where state = 'pending'`,
  `create index credit_holds_user on credit_holds(user_id, created_at)`,
  `create table credit_captures (
    hold_id text not null references credit_holds(id) on delete cascade,
    node_id text not null,
    amount integer not null check (amount > 0),
    created_at timestamptz not null default now(),
    primary key (hold_id, node_id)
  )`,
  `create table ledger_entries (
    id text primary key,
    seq bigint generated always as identity unique,
    user_id text not null references credit_accounts(user_id) on delete cascade,
    kind text not null check (kind in ('grant', 'renewal', 'purchase', 'reserve', 'capture', 'release', 'expire', 'adjustment')),
    balance_delta integer not null,
    held_delta integer not null,
    balance_after integer not null,
    held_after integer not null check (held_after >= 0),
    reason text not null,
    run_id text,
    node_id text,
    hold_id text references credit_holds(id) on delete cascade,
    idempotency_key text not null unique,
    actor_user_id text references users(id) on delete set null,
    created_at timestamptz not null default now()
  )`,
  `create index ledger_entries_user on ledger_entries(user_id, seq)`,
  `create function ledger_entries_append_only() returns trigger language plpgsql as $$
  begin
    raise exception 'ledger_entries is append-only: % refused', tg_op using errcode = 'P0001';
  end
  $$`,
  `create trigger ledger_entries_append_only before update or delete on ledger_entries
    for each row execute function ledger_entries_append_only()`,
  `create table idempotency_keys (
    user_id text not null references users(id) on delete cascade,
    key text not null check (length(key) between 1 and 255),
    request_hash text not null,
    status_code integer not null,
    response_body jsonb not null,
    created_at timestamptz not null default now(),
    primary key (user_id, key)
  )`,
  `create index idempotency_keys_created on idempotency_keys(created_at)`,
];

/** Creates the first schema. */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

/** Drops everything {@link up} created. */
export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'idempotency_keys',
    'ledger_entries',
    'credit_captures',
    'credit_holds',
    'credit_accounts',
    'audit_log',
    'provider_keys',
    'api_tokens',
    'sessions',
    'users',
  ]) {
    await sql.raw(`drop table if exists ${table} cascade`).execute(db);
  }
  await sql.raw('drop function if exists ledger_entries_append_only()').execute(db);
}

/**
 * Credits ledger benchmark: reserve → capture → release cycles with 50 concurrent clients, on
 * PostgreSQL (one account per client, then all clients on one shared account, then a drain of a
 * small shared balance) and on PGlite, against the database's own ceiling measured in the same
 * process: 50 clients running a single-row UPDATE + INSERT transaction (pgbench -N's shape). When
 * PostgreSQL's pgbench is installed, `pgbench -N -c 50` itself runs too and is printed beside it
 * (a C client, no Node in the way: the goal is judged against the Node ceiling, which runs the
 * same client stack as the ledger).
 *
 * Env: BENCH_SECONDS (per phase, default 10), BENCH_CLIENTS (default 50), BENCH_DATABASE_URL or
 * TEST_DATABASE_URL (an admin URL; default postgres://postgres@127.0.0.1:5432/test). It creates
 * its own database and drops it. Exits non-zero on any overdraft or reconciliation drift.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { migrateToLatest } from '../src/db/migrate.ts';
import { type Database, openDatabase } from '../src/db/open-database.ts';
import type { DB } from '../src/db/schema.ts';
import { ApiError } from '../src/errors/api-error.ts';
import { type CreditLedger, createCreditLedger } from '../src/ledger/credit-ledger.ts';
import { adminQuery, withDatabase } from '../test/support/admin-database.ts';
import { type ClientsResult, percentile, runClients } from './run-clients.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 50);
const WARMUP = Math.min(1, SECONDS / 5);
const ADMIN_URL =
  process.env.BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/test';
const GOAL = 0.7;

interface Row {
  readonly lane: 'postgres' | 'pglite';
  readonly workload: string;
  readonly cyclesPerSecond: number | null;
  readonly txPerSecond: number;
  /** Latency of one cycle (ledger) or one transaction (ceiling), ms. */
  readonly p50: number;
  readonly p99: number;
  readonly txP50: number;
  readonly txP99: number;
  readonly overdrafts: number | null;
}

const rows: Row[] = [];
let failures = 0;

async function main(): Promise<void> {
  console.log(`credits ledger bench: ${CLIENTS} clients, ${SECONDS} s per phase (+${WARMUP} s warm-up)`);
  const name = `vidgenie_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
  await adminQuery(ADMIN_URL, `create database ${name}`);
  try {
    const url = withDatabase(ADMIN_URL, name);
    const database = await openDatabase({
      kind: 'postgres',
      url,
      maxConnections: CLIENTS,
      idleTimeoutMs: 200,
    });
    // Idle connections close quickly: the ceiling's 50 and the ledger's 50 are never open together
    // (the server allows 100 in all), and a dropped database does not crash the process.
    const pool = new pg.Pool({ connectionString: url, max: CLIENTS, idleTimeoutMillis: 200 });
    pool.on('error', () => {});
    try {
      await migrateToLatest(database.db);
      await createCeilingTables(pool);
      // The machine's load drifts: the ceiling is measured right before and right after the ledger.
      const before = await pgCeiling(pool, 'ceiling: UPDATE + INSERT tx (before)', (client) => client);
      rows.push(before);
      const ledger = await ledgerSetup('postgres', database);
      await cycles({ ...ledger, workload: `ledger: ${CLIENTS} accounts, one each`, accountOf: ledger.own });
      const after = await pgCeiling(pool, 'ceiling: UPDATE + INSERT tx (after)', (client) => client);
      rows.push(after, {
        ...after,
        workload: 'ceiling: UPDATE + INSERT tx (mean)',
        txPerSecond: (before.txPerSecond + after.txPerSecond) / 2,
        p50: Number.NaN,
        p99: Number.NaN,
        txP50: Number.NaN,
        txP99: Number.NaN,
      });
      rows.push(await pgCeiling(pool, 'ceiling: same, 1 shared row', () => 0));
      const native = await pgbenchCeiling(url);
      if (native !== undefined) rows.push(native);
      await cycles({ ...ledger, workload: 'ledger: 1 account, shared', accountOf: () => ledger.shared });
      await drain(ledger);
    } finally {
      await pool.end();
      await database.close();
    }
  } finally {
    await adminQuery(ADMIN_URL, `drop database if exists ${name} with (force)`);
  }

  const pglite = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
  try {
    await migrateToLatest(pglite.db);
    await pgliteCeiling(pglite.db);
    const ledger = await ledgerSetup('pglite', pglite);
    await cycles({ ...ledger, workload: `ledger: ${CLIENTS} accounts, one each`, accountOf: ledger.own });
    await cycles({ ...ledger, workload: 'ledger: 1 account, shared', accountOf: () => ledger.shared });
    await drain(ledger);
  } finally {
    await pglite.close();
  }

  printTable();
  printSummary();
  process.exitCode = failures > 0 ? 1 : 0;
}

/** The ceiling's tables, in the bench database. */
async function createCeilingTables(pool: pg.Pool): Promise<void> {
  await pool.query('create table bench_ceiling (id int primary key, n bigint not null default 0)');
  await pool.query(
    'create table bench_ceiling_log (id bigserial primary key, account int, delta int, at timestamptz default now())',
  );
  await pool.query(`insert into bench_ceiling (id) select generate_series(0, ${CLIENTS - 1})`);
}

/**
 * The ceiling on PostgreSQL: each client holds its own connection and runs BEGIN; UPDATE one row
 * (its own, or one shared by all); INSERT a log row; COMMIT.
 */
async function pgCeiling(pool: pg.Pool, workload: string, rowOf: (client: number) => number): Promise<Row> {
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => pool.connect()));
  try {
    const result = await runClients({
      clients: CLIENTS,
      seconds: SECONDS,
      warmupSeconds: WARMUP,
      work: async (client) => {
        const connection = clients[client];
        if (connection === undefined) return 'stop';
        await connection.query('begin');
        await connection.query('update bench_ceiling set n = n + 1 where id = $1 returning n', [
          rowOf(client),
        ]);
        await connection.query('insert into bench_ceiling_log (account, delta) values ($1, 1)', [
          rowOf(client),
        ]);
        await connection.query('commit');
        return 'ok';
      },
    });
    return ceilingRow('postgres', result, workload);
  } finally {
    for (const connection of clients) connection.release();
  }
}

/**
 * `pgbench -N -c CLIENTS` on the bench database, when PostgreSQL's pgbench is installed (on PATH
 * or under /usr/lib/postgresql/<version>/bin): the issue's own reference, a C client with no Node
 * in the way, printed beside the Node ceiling the goal is judged against.
 */
async function pgbenchCeiling(url: string): Promise<Row | undefined> {
  const found = [
    'pgbench',
    ...(existsSync('/usr/lib/postgresql')
      ? readdirSync('/usr/lib/postgresql').map((version) => `/usr/lib/postgresql/${version}/bin/pgbench`)
      : []),
  ].find((candidate) => spawnSync(candidate, ['--version']).status === 0);
  if (found === undefined) {
    console.log('pgbench not found: its row is left out.');
    return undefined;
  }
  // The pools' idle connections close after 200 ms: pgbench's own 50 then fit in max_connections.
  await new Promise((resolve) => setTimeout(resolve, 600));
  const init = spawnSync(found, ['-i', '-s', '1', '-q', url], { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`pgbench -i failed: ${init.stderr}`);
  const run = spawnSync(
    found,
    ['-N', '-c', String(CLIENTS), '-j', '2', '-T', String(Math.max(1, Math.round(SECONDS))), url],
    { encoding: 'utf8' },
  );
  const tps = /tps = ([\d.]+)/.exec(run.stdout)?.[1];
  const latency = /latency average = ([\d.]+) ms/.exec(run.stdout)?.[1];
  if (run.status !== 0 || tps === undefined) throw new Error(`pgbench failed: ${run.stderr}`);
  return {
    lane: 'postgres',
    workload: `pgbench -N -c ${CLIENTS} (C client, mean ${latency ?? '?'} ms)`,
    cyclesPerSecond: null,
    txPerSecond: Number(tps),
    p50: Number.NaN,
    p99: Number.NaN,
    txP50: Number.NaN,
    txP99: Number.NaN,
    overdrafts: null,
  };
}

/** The same transaction on PGlite (one connection: the clients queue for it). */
async function pgliteCeiling(db: Kysely<DB>): Promise<void> {
  await sql`create table bench_ceiling (id int primary key, n bigint not null default 0)`.execute(db);
  await sql`create table bench_ceiling_log (id bigserial primary key, account int, delta int, at timestamptz default now())`.execute(
    db,
  );
  await sql`insert into bench_ceiling (id) select generate_series(0, ${CLIENTS - 1})`.execute(db);
  const result = await runClients({
    clients: CLIENTS,
    seconds: SECONDS,
    warmupSeconds: WARMUP,
    work: async (client) => {
      await db.transaction().execute(async (trx) => {
        await sql`update bench_ceiling set n = n + 1 where id = ${client} returning n`.execute(trx);
        await sql`insert into bench_ceiling_log (account, delta) values (${client}, 1)`.execute(trx);
      });
      return 'ok';
    },
  });
  rows.push(ceilingRow('pglite', result, 'ceiling: UPDATE + INSERT tx'));
}

function ceilingRow(lane: Row['lane'], result: ClientsResult, workload: string): Row {
  return {
    lane,
    workload,
    cyclesPerSecond: null,
    txPerSecond: result.done / result.seconds,
    p50: percentile(result.latencies, 50),
    p99: percentile(result.latencies, 99),
    txP50: percentile(result.latencies, 50),
    txP99: percentile(result.latencies, 99),
    overdrafts: null,
  };
}

/** A ledger on the database with its accounts: one per client, one shared, one small one to drain. */
interface LedgerSetup {
  readonly lane: Row['lane'];
  readonly database: Database;
  readonly ledger: CreditLedger;
  readonly own: (client: number) => string;
  readonly shared: string;
  readonly drained: string;
}

async function ledgerSetup(lane: Row['lane'], database: Database): Promise<LedgerSetup> {
  const ledger = createCreditLedger({ db: database.db });
  const prefix = `${lane}-${randomBytes(3).toString('hex')}`;
  const own = await Promise.all(
    Array.from({ length: CLIENTS }, (_, i) =>
      account(database.db, ledger, `${prefix}-own-${i}`, 100_000_000),
    ),
  );
  return {
    lane,
    database,
    ledger,
    own: (client) => own[client] ?? '',
    shared: await account(database.db, ledger, `${prefix}-shared`, 100_000_000),
    drained: await account(database.db, ledger, `${prefix}-drain`, 1000),
  };
}

async function cycles(args: {
  readonly lane: Row['lane'];
  readonly database: Database;
  readonly ledger: CreditLedger;
  readonly workload: string;
  readonly accountOf: (client: number) => string;
}): Promise<void> {
  const { ledger } = args;
  const txLatencies: number[] = [];
  const timed = async <T>(operation: () => Promise<T>): Promise<T> => {
    const began = performance.now();
    const value = await operation();
    txLatencies.push(performance.now() - began);
    return value;
  };
  const result = await runClients({
    clients: CLIENTS,
    seconds: SECONDS,
    warmupSeconds: WARMUP,
    work: async (client, iteration) => {
      const userId = args.accountOf(client);
      const runId = `${userId}-${client}-${iteration}`;
      try {
        const hold = await timed(() => ledger.reserve({ userId, runId, amount: 10, expiresInMs: 3_600_000 }));
        await timed(() => ledger.capture({ holdId: hold.id, nodeId: 'video', amount: 3 }));
        await timed(() => ledger.release({ holdId: hold.id }));
        return 'ok';
      } catch (error) {
        if (error instanceof ApiError && error.code === 'INSUFFICIENT_CREDITS') return 'refused';
        throw error;
      }
    },
  });
  const overdrafts = await countOverdrafts(args.database.db, ledger);
  rows.push({
    lane: args.lane,
    workload: args.workload,
    cyclesPerSecond: result.done / result.seconds,
    txPerSecond: (3 * result.done) / result.seconds,
    p50: percentile(result.latencies, 50),
    p99: percentile(result.latencies, 99),
    txP50: percentile(txLatencies, 50),
    txP99: percentile(txLatencies, 99),
    overdrafts,
  });
}

/** All clients spend a shared balance of 1000 in holds of 10 until refused: exactly 1000 must be charged. */
async function drain(setup: LedgerSetup): Promise<void> {
  const { lane, database, ledger, drained: userId } = setup;
  let charged = 0;
  const result = await runClients({
    clients: CLIENTS,
    seconds: 120,
    work: async (client, iteration) => {
      try {
        const hold = await ledger.reserve({
          userId,
          runId: `${userId}-${client}-${iteration}`,
          amount: 10,
          expiresInMs: 3_600_000,
        });
        const captured = await ledger.capture({ holdId: hold.id, nodeId: 'video', amount: 10 });
        if (captured.captured) charged += captured.amount;
        await ledger.release({ holdId: hold.id });
        return 'ok';
      } catch (error) {
        if (error instanceof ApiError && error.code === 'INSUFFICIENT_CREDITS') return 'stop';
        throw error;
      }
    },
  });
  const balance = await ledger.balance(userId);
  const overdrafts = await countOverdrafts(database.db, ledger);
  const exact = charged === 1000 && balance.balance === 0 && balance.held === 0;
  if (!exact) {
    failures += 1;
    console.error(
      `${lane} drain: charged ${charged} of 1000, balance ${balance.balance}, held ${balance.held}`,
    );
  }
  rows.push({
    lane,
    workload: `ledger: drain 1000 shared (${exact ? 'exact' : 'WRONG'})`,
    cyclesPerSecond: result.done / result.seconds,
    txPerSecond: (3 * result.done) / result.seconds,
    p50: percentile(result.latencies, 50),
    p99: percentile(result.latencies, 99),
    txP50: Number.NaN,
    txP99: Number.NaN,
    overdrafts,
  });
}

/** A user (free plan) topped up to `balance` credits by a grant. */
async function account(db: Kysely<DB>, ledger: CreditLedger, id: string, balance: number): Promise<string> {
  await db
    .insertInto('users')
    .values({ id, email: `${id}@bench.example`, password_hash: 'x' })
    .execute();
  const opened = await ledger.openAccount(db, { userId: id, plan: 'free' });
  if (balance > opened.balance)
    await ledger.grant({ userId: id, amount: balance - opened.balance, reason: 'bench' });
  return id;
}

/**
 * Overdrafts: limited accounts below zero or holding more than their balance, now or at any entry
 * in the ledger's history, plus any account or hold the reconciliation finds drifting.
 */
async function countOverdrafts(db: Kysely<DB>, ledger: CreditLedger): Promise<number> {
  const { rows: counted } = await sql<{ n: number | string }>`
    select (select count(*) from credit_accounts where not unlimited and (balance < 0 or held > balance))
         + (select count(*) from ledger_entries e join credit_accounts a on a.user_id = e.user_id
             where not a.unlimited and (e.balance_after < 0 or e.held_after > e.balance_after)) as n`.execute(
    db,
  );
  const report = await ledger.reconcile();
  const total = Number(counted[0]?.n ?? 0) + report.drift.length + report.holdDrift.length;
  if (total > 0) {
    failures += 1;
    console.error('overdraft or drift found:', JSON.stringify({ counted: counted[0], report }, null, 2));
  }
  return total;
}

function printTable(): void {
  const fmt = (value: number | null, digits = 0) =>
    value === null || Number.isNaN(value) ? '-' : value.toFixed(digits);
  const header = [
    'lane',
    'workload',
    'cycles/s',
    'tx/s',
    'p50 ms',
    'p99 ms',
    'tx p50',
    'tx p99',
    'overdrafts',
  ];
  const lines = rows.map((row) => [
    row.lane,
    row.workload,
    fmt(row.cyclesPerSecond),
    fmt(row.txPerSecond),
    fmt(row.p50, 2),
    fmt(row.p99, 2),
    fmt(row.txP50, 2),
    fmt(row.txP99, 2),
    row.overdrafts === null ? '-' : String(row.overdrafts),
  ]);
  const widths = header.map((title, i) =>
    Math.max(title.length, ...lines.map((line) => (line[i] ?? '').length)),
  );
  const print = (cells: readonly string[]) =>
    console.log(
      cells
        .map((cell, i) => (i < 2 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
        .join('  '),
    );
  console.log('');
  print(header);
  for (const line of lines) print(line);
  console.log('');
  console.log('cycle = reserve → capture → release = 3 ledger transactions (one statement each).');
}

function printSummary(): void {
  const find = (lane: Row['lane'], prefix: string) =>
    rows.find((row) => row.lane === lane && row.workload.startsWith(prefix));
  const ceiling = find('postgres', 'ceiling: UPDATE + INSERT tx (mean)');
  const sharedCeiling = find('postgres', 'ceiling: same, 1 shared');
  const own = find('postgres', `ledger: ${CLIENTS}`);
  const shared = find('postgres', 'ledger: 1 account');
  const native = find('postgres', 'pgbench');
  const liteCeiling = find('pglite', 'ceiling');
  const liteOwn = find('pglite', `ledger: ${CLIENTS}`);
  const ratio =
    own !== undefined && ceiling !== undefined ? own.txPerSecond / ceiling.txPerSecond : Number.NaN;
  const sharedRatio =
    shared !== undefined && sharedCeiling !== undefined
      ? shared.txPerSecond / sharedCeiling.txPerSecond
      : Number.NaN;
  const liteRatio =
    liteOwn !== undefined && liteCeiling !== undefined
      ? liteOwn.txPerSecond / liteCeiling.txPerSecond
      : Number.NaN;
  const overdrafts = rows.reduce((sum, row) => sum + (row.overdrafts ?? 0), 0);
  console.log(
    `SUMMARY postgres: ledger ${own?.txPerSecond.toFixed(0)} tx/s (${own?.cyclesPerSecond?.toFixed(0)} cycles/s, p99 ${own?.p99.toFixed(1)} ms)` +
      ` = ${ratio.toFixed(2)} × ceiling ${ceiling?.txPerSecond.toFixed(0)} tx/s (mean of before and after) [goal ≥ ${GOAL}: ${ratio >= GOAL ? 'met' : 'NOT met'}];` +
      (native === undefined || own === undefined
        ? ''
        : ` ${(own.txPerSecond / native.txPerSecond).toFixed(2)} × pgbench -N's ${native.txPerSecond.toFixed(0)} tps (a C client);`) +
      ` shared account ${shared?.txPerSecond.toFixed(0)} tx/s (${sharedRatio.toFixed(2)} × the 1-row ceiling ${sharedCeiling?.txPerSecond.toFixed(0)});` +
      ` pglite ${liteOwn?.txPerSecond.toFixed(0)} tx/s (${liteRatio.toFixed(2)} × its ceiling);` +
      ` overdrafts ${overdrafts}; ${failures === 0 ? 'OK' : `FAILED (${failures})`}`,
  );
}

await main().catch((error: unknown) => {
  console.error('ledger bench failed:', error);
  process.exit(1);
});

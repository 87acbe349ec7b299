/**
 * Query timings for the runs bench: `instrumentPg` wraps `pg`'s `Pool.prototype.connect` and
 * `Client.prototype.query` (the only paths Kysely, pg-boss and the event bridge use), so every
 * statement of the process is timed, with the wait for a pool connection, and classified by its
 * SQL into what the bench reports: checkpoint writes, captures, event inserts, leases, ...
 * Each record names its run (a `run_…` parameter, or a `hold_…`/`usr_…` one resolved later) and,
 * for checkpoint and capture statements and event inserts, the node(s) it was for.
 *
 * Used in the bench process directly and in `vidgenie worker` children through
 * `query-timings-preload.ts`.
 *
 * While statements run, only their text, parameters and times are kept; classifying and
 * attributing them waits for {@link drainQueryTimings}, after the measured phase, so that the
 * measurement costs the measured process as little as it can (done inline, it was about 7 % of the
 * server's CPU during a 50-user start).
 */
import pg from 'pg';

/** What a statement was, by its SQL. */
export type QueryKind =
  /** `saveNode`, `saveRun`, `createRun`, `claimRun` (writes to run_checkpoints / node_checkpoints). */
  | 'checkpoint'
  /** The ledger's capture statement (and its explanation read). */
  | 'capture'
  /** An insert into run_events (with its NOTIFY). */
  | 'event'
  /** Reads of run_events (the SSE stream's replay, the cross-machine bridge). */
  | 'event-read'
  /** Reads of the checkpoint tables (`loadRun`, recovery). */
  | 'checkpoint-read'
  /** Holds and accounts: reserve, release, grants. */
  | 'ledger'
  /** Lease acquisition, heartbeats, sweeps, advisory locks. */
  | 'lease'
  /** The `runs` row: insert, status, reads. */
  | 'run-row'
  /** pg-boss: send, fetch, complete, maintenance. */
  | 'queue'
  /** Provider keys (the vault) and its audit rows. */
  | 'vault'
  /** Sessions, users, API tokens: authenticating requests. */
  | 'auth'
  /** `analytics_events` rows (one per run event) and `contents` (one per completed run). */
  | 'analytics'
  /** Idempotency keys (accepting a run). */
  | 'idempotency'
  /** Shared provider back-offs (`provider_key_backoffs`). */
  | 'backoff'
  /** Other `pg_notify` calls (the per-user event stream). */
  | 'notify'
  /** BEGIN / COMMIT / ROLLBACK. */
  | 'tx'
  | 'other';

/** One timed statement. Short keys: workers write thousands of these as JSON lines. */
export interface QueryRecord {
  readonly k: QueryKind;
  /** The run it was for (a `run_…` parameter), if any. */
  r?: string;
  /** A hold id parameter (resolved to its run afterwards). */
  h?: string;
  /** A user id parameter (each bench user has exactly one run). */
  u?: string;
  /** The node (checkpoint, capture) it was for. */
  readonly n?: string;
  /**
   * Event inserts: `[seq, nodeId or '', runId]` of each event in the statement (a process stores
   * the events of many runs in one).
   */
  readonly e?: readonly (readonly [number, string, string])[];
  /**
   * Grouped node checkpoints: `[runId, nodeId]` of each save in the statement (a process saves
   * the nodes of many runs in one).
   */
  readonly c?: readonly (readonly [string, string])[];
  /** Milliseconds from sending the statement to its result. */
  readonly ms: number;
  /** Milliseconds waited for a pool connection before it (first statement after `connect`). */
  readonly w: number;
  /** When the result arrived: epoch ms (fractional), this process's clock. */
  readonly t: number;
  /** The start of the SQL, for statements classified `other` (all with BENCH_STATEMENT_TEXT=1). */
  readonly s?: string;
}

const WAIT = Symbol('bench.connectionWait');
const TX = Symbol('bench.transaction');

/** A statement as timed, before it is classified. */
interface Timed {
  readonly text: string;
  readonly params: readonly unknown[];
  readonly ms: number;
  readonly w: number;
  readonly t: number;
}

interface Instrumented {
  [WAIT]?: number | undefined;
  [TX]?: Timed[] | undefined;
}

let sink: ((record: QueryRecord) => void) | undefined;
let onFirstRun: (() => void) | undefined;
/** Statements timed and not drained yet: one group per transaction, or a lone statement. */
let timed: (readonly Timed[])[] = [];
let nodeIds: ReadonlySet<string> = new Set();
let installed = false;

/** Epoch milliseconds with sub-millisecond precision. */
export const clock = (): number => performance.timeOrigin + performance.now();

/**
 * Times every statement of this process from now on; {@link drainQueryTimings} sends their
 * records to `onRecord` (those of a transaction together, each tagged with the transaction's
 * run). `nodes` are the graph's node ids, recognised among the parameters. Calling it again
 * replaces the sink.
 */
export function instrumentPg(options: {
  readonly nodes: readonly string[];
  readonly onRecord: (record: QueryRecord) => void;
  /** Called once, at the first statement naming a run (a `run_…` parameter). */
  readonly onFirstRun?: () => void;
}): void {
  sink = options.onRecord;
  nodeIds = new Set(options.nodes);
  onFirstRun = options.onFirstRun;
  if (installed) return;
  installed = true;

  type Connect = (this: pg.Pool, callback?: (...args: unknown[]) => void) => unknown;
  const connect = pg.Pool.prototype.connect as unknown as Connect;
  (pg.Pool.prototype as unknown as { connect: Connect }).connect = function (callback) {
    const began = performance.now();
    if (typeof callback === 'function') {
      return connect.call(this, (error: unknown, client: unknown, release: unknown) => {
        if (client !== undefined && client !== null)
          (client as Instrumented)[WAIT] = performance.now() - began;
        callback(error, client, release);
      });
    }
    return (connect.call(this) as Promise<pg.PoolClient>).then((client) => {
      (client as unknown as Instrumented)[WAIT] = performance.now() - began;
      return client;
    });
  };

  type Query = (this: pg.Client, config: unknown, values?: unknown, callback?: unknown) => unknown;
  const query = pg.Client.prototype.query as unknown as Query;
  (pg.Client.prototype as unknown as { query: Query }).query = function (config, values, callback) {
    const self = this as unknown as Instrumented;
    const text =
      typeof config === 'string'
        ? config
        : typeof (config as { text?: unknown } | null)?.text === 'string'
          ? (config as { text: string }).text
          : '';
    const params = Array.isArray(values)
      ? (values as unknown[])
      : Array.isArray((config as { values?: unknown } | null)?.values)
        ? (config as { values: unknown[] }).values
        : [];
    const wait = self[WAIT] ?? 0;
    self[WAIT] = undefined;
    const began = performance.now();
    const done = () => {
      try {
        record(self, text, params, performance.now() - began, wait);
      } catch {
        // Timing must never break a query.
      }
    };
    if (typeof callback === 'function') {
      return query.call(this, config, values, (...args: unknown[]) => {
        done();
        (callback as (...a: unknown[]) => void)(...args);
      });
    }
    if (typeof values === 'function') {
      return query.call(this, config, (...args: unknown[]) => {
        done();
        (values as (...a: unknown[]) => void)(...args);
      });
    }
    const result = query.call(this, config, values);
    if (result !== null && typeof (result as Promise<unknown>).then === 'function')
      (result as Promise<unknown>).then(done, done);
    return result;
  };
}

/** Whether a parameter (or an array parameter's first item) is a run id. */
function namesRun(params: readonly unknown[]): boolean {
  return params.some((param) => {
    const value = Array.isArray(param) ? param[0] : param;
    return typeof value === 'string' && value.startsWith('run_');
  });
}

/** Whether a statement begins or ends a transaction. */
function txControl(text: string): 'begins' | 'ends' | undefined {
  const head = text.trimStart().slice(0, 20).toLowerCase();
  if (head.startsWith('begin') || head.startsWith('start transaction')) return 'begins';
  if (head.startsWith('commit') || head.startsWith('rollback')) return 'ends';
  return undefined;
}

/** Keeps one statement's timing for the next drain (inside a transaction, until it ends). */
function record(client: Instrumented, text: string, params: readonly unknown[], ms: number, w: number) {
  if (sink === undefined) return;
  const entry: Timed = { text, params, ms, w, t: clock() };
  if (onFirstRun !== undefined && namesRun(params)) {
    onFirstRun();
    onFirstRun = undefined;
  }
  const control = txControl(text);
  if (control === 'begins') client[TX] = [];
  const tx = client[TX];
  if (tx === undefined) {
    timed.push([entry]);
    return;
  }
  tx.push(entry);
  if (control !== 'ends') return;
  client[TX] = undefined;
  timed.push(tx);
}

/**
 * Classifies and attributes every statement timed since the last drain and sends the records to
 * the sink, in the order the statements (or their transactions) ended. A transaction not ended
 * yet waits for the next drain.
 */
export function drainQueryTimings(): void {
  const groups = timed;
  timed = [];
  if (sink === undefined) return;
  for (const group of groups) {
    const records = group.map(({ text, params, ms, w, t }): QueryRecord => {
      const k = classify(text, txControl(text) !== undefined);
      return {
        ...attribute(params),
        k,
        ms,
        w,
        t,
        ...(k === 'other' || process.env.BENCH_STATEMENT_TEXT === '1'
          ? { s: text.replace(/\s+/g, ' ').trim().slice(0, 60) }
          : {}),
      };
    });
    // A transaction belongs to the first run (or hold, or user) any of its statements names.
    const owner = records.find(
      (item) => item.r !== undefined || item.h !== undefined || item.u !== undefined,
    );
    for (const item of records) {
      if (owner !== undefined && item.r === undefined && item.h === undefined && item.u === undefined) {
        if (owner.r !== undefined) item.r = owner.r;
        if (owner.h !== undefined) item.h = owner.h;
        if (owner.u !== undefined) item.u = owner.u;
      }
      sink(item);
    }
  }
}

function classify(text: string, txControl: boolean): QueryKind {
  if (txControl) return 'tx';
  // Without a leading prepared-statement mark (`/* prepare:… */`), so `^with` still matches.
  const sql = text.toLowerCase().replace(/^\s*\/\*[^*]*\*\/\s*/, '');
  // Taking a lease also reads the run's last event and checkpoint (one statement): a lease.
  if (sql.includes('vidgenie_acquire_run_lease')) return 'lease';
  if (sql.includes('credit_captures')) return 'capture';
  if (/insert\s+into\s+"?run_events"?/.test(sql)) return 'event';
  if (sql.includes('run_events')) return 'event-read';
  if (sql.includes('run_checkpoints') || sql.includes('node_checkpoints'))
    return /^\s*(with|insert|update)/.test(sql) ? 'checkpoint' : 'checkpoint-read';
  if (sql.includes('pgboss')) return 'queue';
  if (sql.includes('credit_holds') || sql.includes('credit_accounts') || sql.includes('ledger_entries'))
    return 'ledger';
  if (sql.includes('lease_') || sql.includes('pg_advisory')) return 'lease';
  if (sql.includes('provider_key_backoffs')) return 'backoff';
  if (sql.includes('pg_notify')) return 'notify';
  if (sql.includes('idempotency_keys')) return 'idempotency';
  if (sql.includes('analytics_events') || sql.includes('contents')) return 'analytics';
  if (/\b"?runs"?\b/.test(sql)) return 'run-row';
  if (sql.includes('provider_keys') || sql.includes('audit_log')) return 'vault';
  if (sql.includes('sessions') || sql.includes('api_tokens') || sql.includes('users')) return 'auth';
  return 'other';
}

/** Adds `param` to `found.e` when it is an event's payload (the engine event as emitted). */
function readEvent(param: string, found: { e?: (readonly [number, string, string])[] }): void {
  if (!param.startsWith('{"') || !param.includes('"seq"')) return;
  try {
    const event = JSON.parse(param) as { seq?: unknown; type?: unknown; nodeId?: unknown; runId?: unknown };
    if (typeof event.seq !== 'number' || typeof event.type !== 'string') return;
    found.e ??= [];
    found.e.push([
      event.seq,
      typeof event.nodeId === 'string' ? event.nodeId : '',
      typeof event.runId === 'string' ? event.runId : '',
    ]);
  } catch {
    // Not an event.
  }
}

/** The run, hold, user and node a statement names among its parameters, and its events. */
function attribute(params: readonly unknown[]): Partial<QueryRecord> {
  const found: {
    r?: string;
    h?: string;
    u?: string;
    n?: string;
    e?: (readonly [number, string, string])[];
    c?: (readonly [string, string])[];
  } = {};
  // Grouped node saves pass columns as arrays: the run ids, then the node ids.
  const arrays = params.filter((param): param is unknown[] => Array.isArray(param));
  const runs = arrays.find(
    (array) => array.length > 0 && array.every((v) => typeof v === 'string' && v.startsWith('run_')),
  );
  const nodes = arrays.find(
    (array) => array.length > 0 && array.every((v) => typeof v === 'string' && nodeIds.has(v)),
  );
  if (runs !== undefined && nodes !== undefined && runs.length === nodes.length)
    found.c = runs.map((runId, i) => [String(runId), String(nodes[i])] as const);
  for (const param of params) {
    if (typeof param !== 'string') continue;
    if (found.r === undefined && param.startsWith('run_')) found.r = param;
    else if (found.h === undefined && param.startsWith('hold_')) found.h = param;
    else if (found.u === undefined && param.startsWith('usr_')) found.u = param;
    else if (found.n === undefined && nodeIds.has(param)) found.n = param;
    else if (found.u === undefined && param.startsWith('{"userId":"usr_')) {
      // A per-user notification's payload.
      const user = /^\{"userId":"(usr_[^"]+)"/.exec(param)?.[1];
      if (user !== undefined) found.u = user;
    } else readEvent(param, found);
  }
  // Event inserts pass their columns as arrays too: the payloads are the events.
  for (const array of arrays)
    for (const value of array) if (typeof value === 'string') readEvent(value, found);
  return found;
}

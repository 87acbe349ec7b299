import {
  CHECKPOINT_FORMAT_VERSION,
  type CheckpointStore,
  EngineError,
  type NodeRecord,
  type RunPatch,
  type RunRecord,
  StaleFenceError,
} from '@vidgenie/engine';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { gather, onePerKey } from '../db/gather.ts';
import { prepared } from '../db/prepared-statements.ts';
import type { DB } from '../db/schema.ts';
import { capture } from '../ledger/capture.ts';
import { holdResolvedError } from '../ledger/hold-resolved-error.ts';
import { RELEASE_REASON } from '../ledger/release.ts';
import { resolveSteps } from '../ledger/resolve-hold.ts';
import { retryTransient } from '../ledger/retry-transient.ts';
import { assertFence, fenceCondition, type LeaseFence } from './lease-fence.ts';
import {
  createNodeSaveBatcher,
  nodeSaveRow,
  saveNodeRows,
  saveNodeRowsRetrying,
} from './node-save-batcher.ts';
import { checkFormatVersion, type RunCheckpointRow, readRunSnapshot } from './read-run-snapshot.ts';

/** Options of {@link createSqlCheckpointStore}. */
export interface SqlCheckpointStoreOptions {
  /**
   * The migrated database (PGlite or PostgreSQL), or a transaction on it (the store then queries
   * only through it). Each write is one statement; a refused write adds one read to explain itself.
   */
  readonly db: Kysely<DB>;
  /**
   * The lease each run is executed under (distributed workers). When it returns a fence for a
   * run, `claimRun`, `saveNode` and `saveRun` also require the run's lease epoch to be the fence's,
   * so a worker that lost its lease (frozen, partitioned) cannot write over the new owner's run.
   */
  readonly fenceOf?: (runId: string) => LeaseFence | undefined;
  /**
   * Implement `commitNode` and `commitRunEnd` on the credits ledger in the same database: a paid
   * node's checkpoint and its capture, and a run's end and its hold's release (the credit hold's
   * id is the engine's reservation id), are one statement each instead of three. Set it when the
   * engine's billing hooks are the ledger's (`createLedgerBillingHooks`), as the run executor does.
   */
  readonly captureOnCommit?: boolean;
  /** The clock that stamps captures' ledger entries (default: the system clock). */
  readonly now?: () => Date;
  /**
   * Make the runs' writes through group commits on this database handle: node checkpoints
   * (`saveNode`, and `commitNode` with its capture), and runs' creations and saves (`createRun`,
   * `saveRun`). The writes of every run made while a statement is in flight go together in the
   * next, each under its own fences, as it would alone. Give it a connection of its own, so that
   * running runs' checkpoints never queue behind requests for the shared pool (the run executor
   * does on PostgreSQL). Not for a store on a transaction: these writes go outside it.
   */
  readonly nodeSavesDb?: Kysely<DB>;
}

/**
 * The engine's `CheckpointStore` on the server's database (`run_checkpoints`, `node_checkpoints`),
 * so a run survives a crash and resumes on any machine. It passes the engine's conformance suite
 * on PGlite and PostgreSQL.
 *
 * Fencing is enforced by the database: each `saveNode` and `saveRun` is one statement that writes
 * only `where fence = <the writer's fence>`, and `claimRun` increments the fence in place, so the
 * row lock orders every write against every claim. A write that changed nothing is then rejected
 * with `StaleFenceError` (or `RUN_NOT_FOUND`). Records are stored as the engine's JSON; what is read
 * back is always a fresh copy.
 *
 * @example
 * ```ts
 * import { createEngine, createNodeRegistry } from '@vidgenie/engine';
 * import { createSqlCheckpointStore, migrateToLatest, openDatabase } from '@vidgenie/server';
 *
 * const database = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
 * await migrateToLatest(database.db);
 * const engine = createEngine({
 *   registry: createNodeRegistry([]),
 *   store: createSqlCheckpointStore({ db: database.db }),
 * });
 * console.log(await engine.store.loadRun({ runId: 'run-1' })); // undefined
 * await database.close();
 * ```
 */
export function createSqlCheckpointStore(options: SqlCheckpointStoreOptions): CheckpointStore {
  const { db } = options;
  const now = options.now ?? (() => new Date());
  const leaseOf = (runId: string) => fenceCondition(options.fenceOf?.(runId));

  /** The run record's fenced update with `patch` (and a further `condition`), without `returning`. */
  const runUpdate = (
    runId: string,
    fence: number,
    patch: RunPatch,
    condition: RawBuilder<unknown> = sql``,
  ) => {
    const { lastSeq, ...fields } = patch;
    return sql`update run_checkpoints
         set patch = patch || ${patchJson(fields)}::jsonb
               || jsonb_build_object('updatedAt', floor(extract(epoch from now()) * 1000)::bigint),
             status = coalesce(${fields.status ?? null}::text, status),
             last_seq = greatest(last_seq, ${lastSeq ?? 0}),
             updated_at = now()
       where run_id = ${runId} and fence = ${fence} ${leaseOf(runId)} ${condition}`;
  };

  /** A conditional write changed nothing: say why (a read after the fact, for the error only). */
  const rejectWrite = async (runId: string, fence: number): Promise<never> => {
    await assertFence(db, options.fenceOf?.(runId));
    const { rows } = await sql<{ fence: number }>`
      select fence from run_checkpoints where run_id = ${runId}`.execute(db);
    const current = rows[0]?.fence;
    if (current === undefined) throw runNotFound(runId);
    throw new StaleFenceError({ runId, fence, current });
  };

  const batcher =
    options.nodeSavesDb === undefined ? undefined : createNodeSaveBatcher({ db: options.nodeSavesDb });
  const writesDb = options.nodeSavesDb;
  /** A write gathered on the writer across runs (a burst of runs starting), one item per run a statement. */
  const onWriter = <T extends { readonly runId: string }, R>(
    write: (db: Kysely<DB>, items: readonly T[]) => Promise<R[]>,
  ) =>
    writesDb === undefined
      ? undefined
      : gather({
          send: onePerKey(
            (item: T) => item.runId,
            (items) => write(writesDb, items),
          ),
        });
  const gatheredCreate = onWriter(createRunRows);
  const gatheredSave = onWriter(saveRunRows);

  const saveNode: CheckpointStore['saveNode'] = async ({ runId, fence, node, seq }) => {
    // One statement (a group's, with the batcher): the fenced update of the run (its row lock
    // orders this write against claims) feeds the node upsert, so a stale writer changes neither.
    const save = { runId, fence, epoch: options.fenceOf?.(runId)?.epoch ?? null, seq, node };
    const written =
      batcher === undefined
        ? (await saveNodeRows(db, [nodeSaveRow(save)])).size > 0
        : await batcher.save(save);
    if (!written) await rejectWrite(runId, fence);
  };

  /**
   * Checkpoint and capture in one statement (a group's, with the batcher): the fenced run update
   * gates the hold's update, and the node is saved only with the capture. When it changes nothing
   * (a stale writer, a capture already made, a resolved hold), the three writes it stands for run
   * one by one, and explain themselves as they always have.
   */
  const commitNode: CheckpointStore['commitNode'] = async ({ runId, fence, node, seq, capture: charge }) => {
    const lease = options.fenceOf?.(runId);
    const save = {
      runId,
      fence,
      epoch: lease?.epoch ?? null,
      seq,
      node,
      capture: { holdId: charge.reservationId, amount: charge.amount, at: now() },
    };
    const committed =
      batcher === undefined
        ? (await saveNodeRowsRetrying(db, [nodeSaveRow(save)])).size > 0
        : await batcher.save(save);
    if (committed) return;
    const args = {
      holdId: charge.reservationId,
      nodeId: charge.nodeId,
      amount: charge.amount,
      ...(lease === undefined ? {} : { fence: lease }),
    };
    await saveNode({ runId, fence, node: { ...node, captured: false }, seq });
    const result = await capture({ db, now }, args);
    if (!result.captured) throw holdResolvedError(runId, charge.nodeId, result.state);
    await saveNode({ runId, fence, node, seq });
  };

  /**
   * The run's end and its hold's release in one statement: the hold is locked first and must be
   * pending, the fenced run update needs it, and the release needs the run update. Anything else
   * (a stale writer, a hold resolved already) changes nothing and answers false: the engine then
   * makes the three writes, which explain themselves.
   */
  const commitRunEnd: CheckpointStore['commitRunEnd'] = async ({ runId, fence, patch, release }) => {
    const lease = options.fenceOf?.(runId);
    return retryTransient(
      async () => {
        const { rows } = await sql<{ returned: number }>`${prepared('checkpoint.commit-run-end')}
          with pending as (
            select id from credit_holds
             where id = ${release.reservationId} and state = 'pending' ${fenceCondition(lease)}
               for update
          ), run as (
            ${runUpdate(runId, fence, patch, sql`and exists (select 1 from pending)`)}
            returning run_id
          ), ${resolveSteps({
            holdId: release.reservationId,
            state: 'released',
            reason: RELEASE_REASON,
            ...(lease === undefined ? {} : { fence: lease }),
            now: now(),
            gate: sql`and exists (select 1 from run)`,
          })}
          select hold.returned from hold, account`.execute(db);
        return rows.length > 0;
      },
      { onUniqueViolation: true },
    );
  };

  return {
    ...(options.captureOnCommit === true ? { commitNode, commitRunEnd } : {}),
    async createRun({ run, nodes = [] }) {
      // Last record wins for a repeated node id, as a map would keep it.
      const unique = new Map<string, NodeRecord>();
      for (const node of nodes) unique.set(node.nodeId, node);
      if (gatheredCreate !== undefined) {
        const fence = await gatheredCreate({ runId: run.runId, run, nodes: nodeRows(unique.values()) });
        if (fence === undefined)
          throw new EngineError('RUN_EXISTS', `A run with id ${run.runId} already exists.`);
        return { fence };
      }
      // ON CONFLICT DO NOTHING rather than catching 23505: a unique violation would abort a
      // surrounding transaction (the server creates runs in the transaction that places the hold).
      const { rows } = await sql<{ fence: number }>`
        with run as (
          insert into run_checkpoints (run_id, format_version, status, last_seq, record)
          values (${run.runId}, ${run.version}, ${run.status}, ${run.lastSeq}, ${JSON.stringify(run)}::json)
          on conflict (run_id) do nothing
          returning run_id, fence
        ), nodes as (
          insert into node_checkpoints (run_id, node_id, status, record, seq)
          select run.run_id, node->>0, node->>1, (node->>2)::json, ${run.lastSeq}
            from run cross join json_array_elements(${nodeRows(unique.values())}::json) as node
        )
        select fence from run`.execute(db);
      const created = rows[0];
      if (created === undefined)
        throw new EngineError('RUN_EXISTS', `A run with id ${run.runId} already exists.`);
      return { fence: created.fence };
    },

    async claimRun({ runId }) {
      // The increment takes the run's row lock, which every saveNode also takes: once it commits,
      // every write under an older fence has committed or will fail, so the nodes read next are
      // complete. A run in a format this server cannot read is not claimed (its owner keeps it).
      const claimed = await sql<Omit<RunCheckpointRow, 'nodes'>>`
        update run_checkpoints
           set fence = fence + 1, updated_at = now()
         where run_id = ${runId} and format_version = ${CHECKPOINT_FORMAT_VERSION} ${leaseOf(runId)}
        returning fence, format_version, last_seq, record, patch`.execute(db);
      const row = claimed.rows[0];
      if (row === undefined) {
        // Not claimed: unknown id, or a format version this server cannot read.
        await assertFence(db, options.fenceOf?.(runId));
        const found = await loadRow(db, runId);
        if (found === undefined) throw runNotFound(runId);
        checkFormatVersion(runId, found.format_version);
        throw new Error(`Run ${runId} could not be claimed.`);
      }
      const nodes = await sql<{ record: NodeRecord }>`
        select record from node_checkpoints where run_id = ${runId} order by node_id`.execute(db);
      return readRunSnapshot({ ...row, nodes: nodes.rows.map((n) => n.record) });
    },

    async loadRun({ runId }) {
      const row = await loadRow(db, runId);
      return row === undefined ? undefined : readRunSnapshot(row);
    },

    saveNode,

    async saveRun({ runId, fence, patch }) {
      if (gatheredSave !== undefined) {
        const epoch = options.fenceOf?.(runId)?.epoch ?? null;
        if (!(await gatheredSave({ runId, fence, epoch, patch }))) await rejectWrite(runId, fence);
        return;
      }
      const { rows } = await sql<{ fence: number }>`
        ${runUpdate(runId, fence, patch)}
        returning fence`.execute(db);
      if (rows.length === 0) await rejectWrite(runId, fence);
    },
  };
}

/** A run to create with its restored nodes (as {@link nodeRows}), in a gathered statement. */
interface RunCreate {
  readonly runId: string;
  readonly run: RunRecord;
  readonly nodes: string;
}

/** A run save, in a gathered statement: the fence and lease epoch it is made under, and the patch. */
interface RunSave {
  readonly runId: string;
  readonly fence: number;
  readonly epoch: number | null;
  readonly patch: RunPatch;
}

/** Creates several runs (distinct ids) in one statement; answers each one's fence, undefined if it existed. */
async function createRunRows(db: Kysely<DB>, creates: readonly RunCreate[]): Promise<(number | undefined)[]> {
  const column = <T>(pick: (create: RunCreate) => T) => creates.map(pick);
  const { rows } = await sql<{ ord: string; fence: number }>`${prepared('checkpoint.create-runs')}
    with input as (
      select * from unnest(
        ${column((c) => c.runId)}::text[], ${column((c) => c.run.version)}::integer[],
        ${column((c) => c.run.status)}::text[], ${column((c) => c.run.lastSeq)}::bigint[],
        ${column((c) => JSON.stringify(c.run))}::text[], ${column((c) => c.nodes)}::text[]
      ) with ordinality as u(run_id, format_version, status, last_seq, record, nodes, ord)
    ), run as (
      insert into run_checkpoints (run_id, format_version, status, last_seq, record)
      select run_id, format_version, status, last_seq, record::json from input order by ord
      on conflict (run_id) do nothing
      returning run_id, fence
    ), nodes as (
      insert into node_checkpoints (run_id, node_id, status, record, seq)
      select run.run_id, node->>0, node->>1, (node->>2)::json, i.last_seq
        from run join input i on i.run_id = run.run_id
        cross join json_array_elements(i.nodes::json) as node
    )
    select i.ord, run.fence from input i join run on run.run_id = i.run_id`.execute(db);
  const fences = new Map(rows.map((row) => [Number(row.ord), row.fence]));
  return creates.map((_, i) => fences.get(i + 1));
}

/**
 * Saves several runs (distinct ids) in one statement, each under its fence and lease epoch as
 * `saveRun` alone would; answers whether each was written.
 */
async function saveRunRows(db: Kysely<DB>, saves: readonly RunSave[]): Promise<boolean[]> {
  const column = <T>(pick: (save: RunSave) => T) => saves.map(pick);
  const { rows } = await sql<{ ord: string }>`${prepared('checkpoint.save-runs')}
    with input as (
      select * from unnest(
        ${column((s) => s.runId)}::text[], ${column((s) => s.fence)}::integer[],
        ${column((s) => s.epoch)}::integer[], ${column(({ patch: { lastSeq: _, ...fields } }) => patchJson(fields))}::text[],
        ${column((s) => s.patch.status ?? null)}::text[], ${column((s) => s.patch.lastSeq ?? 0)}::bigint[]
      ) with ordinality as u(run_id, fence, epoch, patch, status, last_seq, ord)
    )
    update run_checkpoints c
       set patch = c.patch || i.patch::jsonb
             || jsonb_build_object('updatedAt', floor(extract(epoch from now()) * 1000)::bigint),
           status = coalesce(i.status, c.status),
           last_seq = greatest(c.last_seq, i.last_seq),
           updated_at = now()
      from input i
     where c.run_id = i.run_id and c.fence = i.fence
       and (i.epoch is null or exists (select 1 from runs r where r.id = i.run_id and r.lease_epoch = i.epoch))
    returning i.ord`.execute(db);
  const written = new Set(rows.map((row) => Number(row.ord)));
  return saves.map((_, i) => written.has(i + 1));
}

/** The run and its nodes in one query (one snapshot), or undefined. */
async function loadRow(db: Kysely<DB>, runId: string): Promise<RunCheckpointRow | undefined> {
  const { rows } = await sql<RunCheckpointRow>`
    select r.fence, r.format_version, r.last_seq, r.record, r.patch,
           coalesce(
             (select json_agg(n.record order by n.node_id) from node_checkpoints n where n.run_id = r.run_id),
             '[]'::json
           ) as nodes
      from run_checkpoints r
     where r.run_id = ${runId}`.execute(db);
  return rows[0];
}

/**
 * Node records as `[nodeId, status, record text]` rows. The record travels as a JSON string, so the
 * database never parses it (its JSON functions refuse a `\u0000` escape in text they extract).
 */
function nodeRows(nodes: Iterable<NodeRecord>): string {
  return JSON.stringify([...nodes].map((node) => [node.nodeId, node.status, JSON.stringify(node)]));
}

/**
 * The patch as JSON for a `jsonb` column: a top-level field set to `undefined` becomes null (removed
 * on read), and U+0000, which `jsonb` cannot hold, becomes U+FFFD in strings (patches carry error
 * messages, which may quote a provider).
 */
function patchJson(fields: Omit<RunPatch, 'lastSeq'>): string {
  const top = Object.fromEntries(
    Object.entries(fields).map(([key, value]) => [key, value === undefined ? null : value]),
  );
  return JSON.stringify(top, (_key, value: unknown) =>
    typeof value === 'string' ? value.replaceAll('\u0000', '\uFFFD') : value,
  );
}

function runNotFound(runId: string): EngineError {
  return new EngineError('RUN_NOT_FOUND', `No run with id ${runId}.`);
}

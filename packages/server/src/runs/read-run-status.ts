import { type Kysely, sql } from 'kysely';
import type { DB, RunRowStatus } from '../db/schema.ts';
import { ApiError } from '../errors/api-error.ts';
import type { CreditLedger } from '../ledger/credit-ledger.ts';

/** Where one node of a run stands, folded from the run's stored events. */
export interface RunNodeStatus {
  readonly nodeId: string;
  readonly nodeType: string;
  readonly status: 'pending' | 'running' | 'completed' | 'failed' | 'skipped' | 'cancelled';
  /** From 0 to 1 (1 once completed). */
  readonly progress: number;
  readonly message: string | null;
  readonly attempt: number;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  readonly durationMs: number | null;
  /** Credits charged for this node. */
  readonly cost: number;
  /** The node's output (media references, never bytes); null until completed. */
  readonly output: unknown;
  readonly error: Readonly<Record<string, unknown>> | null;
}

/** A run as `GET /api/workflow/status/{runId}` answers it. */
export interface RunStatusView {
  readonly runId: string;
  readonly status: RunRowStatus;
  readonly queuePosition: number | null;
  readonly estimatedCost: number;
  /** The duration estimate given when the run was accepted (null for older runs). */
  readonly estimatedDurationSeconds: number | null;
  /** For a rerun: the earlier run whose outputs it reuses. */
  readonly parentRunId: string | null;
  /** For a rerun: the node it ran again from. */
  readonly rerunFrom: string | null;
  readonly cost: { readonly reserved: number; readonly captured: number; readonly released: number | null };
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly error: Readonly<Record<string, unknown>> | null;
  /** The `seq` of the last stored event (resume an event stream from it). */
  readonly lastEventSeq: number;
  readonly nodes: readonly RunNodeStatus[];
  /** Outputs of the completed nodes, by node id. */
  readonly outputs: Readonly<Record<string, unknown>>;
  /** The graph the run executes, as accepted (the initial prompt applied): a canvas reopens it. */
  readonly graph: Readonly<Record<string, unknown>>;
}

/** A stored event as the status statement reads it: `[seq, type, payload]`. */
type StoredEvent = readonly [seq: number, type: string, payload: Readonly<Record<string, unknown>>];

type MutableNode = { -readonly [K in keyof RunNodeStatus]: RunNodeStatus[K] };

/**
 * Reads a user's run: its row, every node's status, progress, timings, cost and output (folded
 * from the stored events, which hold everything the engine reported) and its credit hold's
 * figures, in one statement (a queued run's position in the queue is one more). 404 `NOT_FOUND`
 * for an unknown run or another user's.
 *
 * @example
 * ```ts
 * import { createServices, loadConfig, readRunStatus } from '@vidgenie/server';
 * const services = await createServices(loadConfig({ VIDGENIE_DATA_DIR: './.vidgenie-example' }));
 * const run = await readRunStatus(services, { userId: 'usr_1', runId: 'run_1' }).catch(() => undefined);
 * console.log(run?.status); // undefined: no such run
 * await services.close();
 * ```
 */
export async function readRunStatus(
  services: {
    readonly db: Kysely<DB>;
    /** Unused: the hold's figures are read with the run. Kept so that existing callers compile. */
    readonly ledger?: CreditLedger;
    readonly runs: { queuePosition(runId: string): Promise<number | undefined> };
  },
  args: { readonly userId: string; readonly runId: string },
): Promise<RunStatusView> {
  // One statement: the run's row, its hold's figures and every stored event (one JSON value, not a
  // row per event: a status read is on the hot path of every creator's page and of polling clients).
  const row = await services.db
    .selectFrom('runs as r')
    .leftJoin('credit_holds as h', 'h.id', 'r.hold_id')
    .select([
      'r.id',
      'r.status',
      'r.graph',
      'r.estimated_cost',
      'r.estimated_duration_seconds',
      'r.parent_run_id',
      'r.rerun_from',
      'r.created_at',
      'r.started_at',
      'r.finished_at',
      'r.error',
      'h.amount as hold_amount',
      'h.captured as hold_captured',
      'h.returned as hold_returned',
      sql<
        StoredEvent[]
      >`(select coalesce(json_agg(json_build_array(e.seq, e.type, e.payload) order by e.seq), '[]'::json)
                            from run_events e where e.run_id = r.id)`.as('events'),
    ])
    .where('r.id', '=', args.runId)
    .where('r.user_id', '=', args.userId)
    .executeTakeFirst();
  if (row === undefined) throw new ApiError('NOT_FOUND', 'No such run.');
  const { events } = row;

  const nodes = new Map<string, MutableNode>();
  const graphNodes = (row.graph as { nodes?: { id: string; type: string }[] }).nodes ?? [];
  for (const node of graphNodes) {
    nodes.set(node.id, {
      nodeId: node.id,
      nodeType: node.type,
      status: 'pending',
      progress: 0,
      message: null,
      attempt: 0,
      startedAt: null,
      endedAt: null,
      durationMs: null,
      cost: 0,
      output: null,
      error: null,
    });
  }
  const iso = (at: unknown) => (typeof at === 'number' ? new Date(at).toISOString() : null);
  for (const [, type, payload] of events) {
    const node = typeof payload.nodeId === 'string' ? nodes.get(payload.nodeId) : undefined;
    if (node === undefined) continue;
    const at = iso(payload.at);
    switch (type) {
      case 'node.started':
        node.status = 'running';
        node.attempt = Number(payload.attempt ?? node.attempt + 1);
        node.startedAt ??= at;
        node.error = null;
        break;
      case 'node.progress':
        node.progress = Number(payload.fraction ?? node.progress);
        node.message = typeof payload.message === 'string' ? payload.message : node.message;
        break;
      case 'node.retrying':
        node.error = (payload.error as Record<string, unknown> | undefined) ?? null;
        break;
      case 'cost.captured':
        node.cost += Number(payload.amount ?? 0);
        break;
      case 'node.completed':
      case 'node.cached':
        node.status = 'completed';
        node.progress = 1;
        node.output = payload.output ?? null;
        node.endedAt = at;
        node.durationMs = typeof payload.durationMs === 'number' ? payload.durationMs : 0;
        node.error = null;
        break;
      case 'node.failed':
        node.status = 'failed';
        node.endedAt = at;
        node.error = (payload.error as Record<string, unknown> | undefined) ?? null;
        break;
      case 'node.skipped':
        node.status = 'skipped';
        node.endedAt = at;
        break;
      case 'node.cancelled':
        node.status = 'cancelled';
        node.endedAt = at;
        break;
    }
  }

  const outputs: Record<string, unknown> = {};
  for (const node of nodes.values()) if (node.status === 'completed') outputs[node.nodeId] = node.output;
  return {
    runId: row.id,
    status: row.status,
    queuePosition: row.status === 'queued' ? ((await services.runs.queuePosition(row.id)) ?? null) : null,
    estimatedCost: row.estimated_cost,
    estimatedDurationSeconds: row.estimated_duration_seconds,
    parentRunId: row.parent_run_id,
    rerunFrom: row.rerun_from,
    cost: {
      reserved: row.hold_amount ?? 0,
      captured: row.hold_captured ?? 0,
      released: row.hold_returned ?? null,
    },
    createdAt: row.created_at.toISOString(),
    startedAt: row.started_at?.toISOString() ?? null,
    finishedAt: row.finished_at?.toISOString() ?? null,
    error: row.error,
    lastEventSeq: events.at(-1)?.[0] ?? 0,
    nodes: [...nodes.values()],
    outputs,
    graph: row.graph,
  };
}

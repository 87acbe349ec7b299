import { validateGraph, type WorkflowGraph } from '@vidgenie/engine';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { DB } from '../db/schema.ts';
import { ApiError } from '../errors/api-error.ts';
import type { AppServices } from '../http/app-env.ts';
import { newId } from '../ids/new-id.ts';
import { estimateWorkflow } from '../ledger/estimate-workflow.ts';
import { reserve } from '../ledger/reserve.ts';
import { estimateRunSeconds } from './estimate-duration.ts';
import {
  claimIdempotencyKey,
  findStoredResponse,
  type IdempotentRequest,
  type StoredResponse,
} from './idempotency-keys.ts';
import { missingProviderKeys } from './missing-provider-keys.ts';
import { planRerun } from './plan-rerun.ts';
import { createRunPlacer, type RunPlacer } from './run-placer.ts';

/** What `POST /api/workflow/execute` (and `…/rerun`) answers. */
export interface StartedRun {
  readonly runId: string;
  /** Credits held for the run (for a rerun: the rerun nodes only). */
  readonly estimatedCost: number;
  /** A rough duration in seconds (see `estimateRunSeconds`); reused nodes count 0. */
  readonly estimatedDurationSeconds: number;
  readonly status: 'queued';
}

/** {@link startWorkflowRun}'s answer: the run, and whether it is the stored answer of an idempotency key. */
export type StartWorkflowRunResult = StartedRun & {
  /** True when an earlier request with the same `Idempotency-Key` created the run: nothing new was done. */
  readonly replayed: boolean;
};

/** Arguments of {@link startWorkflowRun}. */
export interface StartWorkflowRunArgs {
  readonly userId: string;
  /** The graph (for a rerun: optional, default the earlier run's graph). */
  readonly graph?: unknown;
  readonly initialPrompt?: string | undefined;
  /** The request's `Idempotency-Key` and hash: the same key and request answer the same run. */
  readonly idempotency?: IdempotentRequest | undefined;
  /** A rerun: a new run reusing the earlier run's outputs upstream of `fromNodeId`. */
  readonly rerun?: { readonly parentRunId: string; readonly fromNodeId: string } | undefined;
}

type Services = Pick<AppServices, 'db' | 'ledger' | 'vault' | 'providers' | 'runs' | 'now'>;

/**
 * Accepts a workflow run for a user: validates the graph (400 `GRAPH_INVALID` with every issue),
 * checks that the user has a usable key for each hosted provider it uses (400 `VALIDATION_FAILED`:
 * "add your … key in Settings"), estimates it, then in ONE transaction claims the idempotency key
 * (if any), places the credit hold under the new run id (402 `INSUFFICIENT_CREDITS` with `required`
 * and `available`: the transaction rolls back, nothing is stored) and records the run (`queued`),
 * and finally queues it. The engine's billing hooks find the same hold by the run id.
 *
 * With `idempotency`, a key already used for the same request answers its stored run (`replayed`,
 * before any validation), and for another request 409 `IDEMPOTENCY_CONFLICT`. Two concurrent
 * requests with one key serialize on the key's primary key: one creates the run, the other replays it.
 *
 * With `rerun`, the earlier run (the user's, ended) lends its outputs: only `fromNodeId`, the nodes
 * downstream of it and nodes whose config changed run again, and only they are held and charged.
 *
 * @example
 * ```ts
 * import { createServices, loadConfig, startWorkflowRun } from '@vidgenie/server';
 * import { shortVideoTemplate } from '@vidgenie/nodes';
 * const services = await createServices(loadConfig({ VIDGENIE_DATA_DIR: './.vidgenie-example' }));
 * const run = await startWorkflowRun(services, {
 *   userId: 'usr_1',
 *   graph: shortVideoTemplate({ durationSeconds: 8 }),
 *   initialPrompt: 'a red fox in the snow at dawn',
 * });
 * console.log(run.runId, run.estimatedCost, run.estimatedDurationSeconds); // run_…, 14, 4
 * await services.close();
 * ```
 */
export async function startWorkflowRun(
  services: Services,
  args: StartWorkflowRunArgs,
): Promise<StartWorkflowRunResult> {
  const { userId, idempotency } = args;
  if (idempotency !== undefined) {
    const stored = await findStoredResponse(services.db, {
      userId,
      request: idempotency,
      now: services.now(),
    });
    if (stored !== undefined) return replayed(stored);
  }

  const parent = args.rerun === undefined ? undefined : await loadParent(services, userId, args.rerun);
  const graph = withInitialPrompt(args.graph ?? parent?.graph, args.initialPrompt);
  const estimate = estimateWorkflow(graph, services.providers);
  const checked = validateGraph(graph, services.runs.registry);
  if (!checked.ok) {
    throw new ApiError('GRAPH_INVALID', 'The workflow graph is invalid.', {
      details: { issues: checked.issues },
    });
  }
  let charged: ReadonlySet<string> = new Set(checked.graph.nodes.map((node) => node.id));
  let reused: ReadonlySet<string> = new Set();
  if (parent !== undefined && args.rerun !== undefined) {
    const { fromNodeId } = args.rerun;
    if (!checked.graph.nodes.some((node) => node.id === fromNodeId)) {
      throw new ApiError('VALIDATION_FAILED', `"fromNodeId": the graph has no node "${fromNodeId}".`, {
        details: { issues: [{ path: 'fromNodeId', message: 'is not a node of the graph' }] },
      });
    }
    const plan = planRerun({
      graph: checked.graph,
      parentGraph: parent.graph,
      parentCompleted: parent.completed,
      fromNodeId,
    });
    charged = plan.rerun;
    reused = plan.reused;
  }

  const missing = missingProviderKeys({
    graph: onlyNodes(checked.graph, charged),
    registry: services.runs.registry,
    providers: services.providers,
    keys: await services.vault.list(userId),
  });
  const first = missing[0];
  if (first !== undefined) {
    const what = first.reason === 'missing' ? `Add your ${first.label}` : `Replace your ${first.label}`;
    throw new ApiError(
      'VALIDATION_FAILED',
      `${what} in Settings (${first.reason === 'missing' ? 'none is saved' : 'it was refused'}) to run this workflow.`,
      { details: { keys: missing } },
    );
  }

  const runId = newId('run');
  const amount = estimate.nodes.reduce((sum, node) => (charged.has(node.nodeId) ? sum + node.cost : sum), 0);
  const started: StartedRun = {
    runId,
    estimatedCost: amount,
    estimatedDurationSeconds: estimateRunSeconds(checked.graph, services.providers, reused),
    status: 'queued',
  };
  const now = services.now();
  /** The run's row; `hold` is its hold's id, read `from` the hold's CTE (or a value and no from). */
  const runRow = (hold: RawBuilder<unknown>, from: RawBuilder<unknown> = sql``) => sql`
    insert into runs (id, user_id, status, graph, estimated_cost, estimated_duration_seconds, hold_id,
                      parent_run_id, rerun_from, created_at, dispatched_at)
    select ${runId}::text, ${userId}::text, 'queued', ${JSON.stringify(checked.graph)}::json, ${amount}::integer,
           ${started.estimatedDurationSeconds}::integer, ${hold}, ${parent?.id ?? null}::text,
           ${args.rerun?.fromNodeId ?? null}::text,
           -- Millisecond timestamps from the app clock: the history cursor compares them exactly.
           ${now}::timestamptz,
           -- Handed to the executor as it commits: the lease sweep leaves it to this process a while.
           now()
    ${from}`;
  /** The hold and the run in one statement: both commit, or neither (402 and nothing stored). */
  const placeRun = async (db: Kysely<DB>) => {
    if (amount === 0) {
      await runRow(sql`null`).execute(db);
      return;
    }
    const hold = await reserve(
      { db, now: services.now, dailyCreditCap: services.ledger.dailyCreditCap },
      { userId, runId, amount, expiresInMs: services.runs.holdTtlMs, reason: `Hold for run ${runId}` },
      { alongside: sql`run as (${runRow(sql`hold.id`, sql`from hold`)})` },
    );
    // A hold found already in place (never for a new run id) was placed without the run.
    if (hold.replayed) await runRow(sql`${hold.id}::text`).execute(db);
  };
  /** Without an idempotency key: with the runs accepted at the same time, in one statement. */
  const placeGathered = async () => {
    const placed =
      amount > 0 &&
      (await runPlacerOf(services.db)({
        runId,
        userId,
        amount,
        estimatedDurationSeconds: started.estimatedDurationSeconds,
        graph: JSON.stringify(checked.graph),
        parentRunId: parent?.id ?? null,
        rerunFrom: args.rerun?.fromNodeId ?? null,
        reason: `Hold for run ${runId}`,
        now,
        expiresAt: new Date(now.getTime() + services.runs.holdTtlMs),
        dailyCreditCap: services.ledger.dailyCreditCap,
      }));
    // Not placed (too few credits, the daily cap, no account) or free: the ledger's own path,
    // which says why.
    if (!placed) await placeRun(services.db);
  };
  const winner =
    idempotency === undefined
      ? await placeGathered()
      : await services.db.transaction().execute(async (trx) => {
          const stored = await claimIdempotencyKey(trx, {
            userId,
            request: idempotency,
            response: { statusCode: 202, body: { ...started } },
            now,
          });
          if (stored !== undefined) return stored;
          await placeRun(trx);
          return undefined;
        });
  if (winner !== undefined) return replayed(winner);
  await services.runs.submit(runId, userId);
  return { ...started, replayed: false };
}

/** One run placer per database handle, so that runs accepted at once share its statements. */
const runPlacers = new WeakMap<Kysely<DB>, RunPlacer>();

function runPlacerOf(db: Kysely<DB>): RunPlacer {
  let placer = runPlacers.get(db);
  if (placer === undefined) {
    placer = createRunPlacer(db);
    runPlacers.set(db, placer);
  }
  return placer;
}

function replayed(stored: StoredResponse): StartWorkflowRunResult {
  const body = stored.body as unknown as StartedRun;
  return {
    runId: body.runId,
    estimatedCost: body.estimatedCost,
    estimatedDurationSeconds: body.estimatedDurationSeconds,
    status: body.status,
    replayed: true,
  };
}

/** The earlier run of a rerun: the user's own (404 otherwise), ended (409 while it runs). */
async function loadParent(
  services: Services,
  userId: string,
  rerun: { readonly parentRunId: string },
): Promise<{ id: string; graph: WorkflowGraph; completed: ReadonlySet<string> }> {
  const row = await services.db
    .selectFrom('runs')
    .select(['id', 'status', 'graph'])
    .where('id', '=', rerun.parentRunId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  if (row === undefined) throw new ApiError('NOT_FOUND', 'No such run.');
  if (row.status === 'queued' || row.status === 'running') {
    throw new ApiError('CONFLICT', 'This run has not ended yet: rerun it once it has (or cancel it).');
  }
  const nodes = await services.db
    .selectFrom('node_checkpoints')
    .select('node_id')
    .where('run_id', '=', row.id)
    .where('status', '=', 'completed')
    .execute();
  return {
    id: row.id,
    graph: row.graph as unknown as WorkflowGraph,
    completed: new Set(nodes.map((node) => node.node_id)),
  };
}

/** The graph with only the given nodes (for checking the keys of the nodes that will run). */
function onlyNodes(graph: WorkflowGraph, ids: ReadonlySet<string>): WorkflowGraph {
  return {
    ...graph,
    nodes: graph.nodes.filter((node) => ids.has(node.id)),
    edges: graph.edges.filter((edge) => ids.has(edge.source) && ids.has(edge.target)),
  };
}

/** The graph with `initialPrompt` as the text of every `prompt` node (the graph as is without one). */
function withInitialPrompt(graph: unknown, initialPrompt: string | undefined): unknown {
  if (initialPrompt === undefined || typeof graph !== 'object' || graph === null) return graph;
  const { nodes } = graph as { nodes?: unknown };
  if (!Array.isArray(nodes)) return graph;
  return {
    ...graph,
    nodes: nodes.map((node: unknown) => {
      if (typeof node !== 'object' || node === null || (node as { type?: unknown }).type !== 'prompt')
        return node;
      const config = (node as { config?: unknown }).config;
      return {
        ...node,
        config: { ...(typeof config === 'object' && config !== null ? config : {}), text: initialPrompt },
      };
    }),
  };
}

import { validateGraph } from '@vidgenie/engine';
import { ApiError } from '../errors/api-error.ts';
import type { AppServices } from '../http/app-env.ts';
import { newId } from '../ids/new-id.ts';
import { estimateWorkflow } from '../ledger/estimate-workflow.ts';
import { missingProviderKeys } from './missing-provider-keys.ts';

/** What `POST /api/workflow/execute` answers. */
export interface StartedRun {
  readonly runId: string;
  /** Credits held for the run. */
  readonly estimatedCost: number;
  readonly status: 'queued';
}

/**
 * Accepts a workflow run for a user: validates the graph (400 `GRAPH_INVALID` with every issue),
 * checks that the user has a usable key for each hosted provider it uses (400 `VALIDATION_FAILED`:
 * "add your … key in Settings"), estimates it, places the credit hold under the new run id (402
 * `INSUFFICIENT_CREDITS` with `required` and `available`, and nothing stored), records the run
 * (`queued`) and queues it. The engine's billing hooks find the same hold by the run id.
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
 * console.log(run.runId, run.estimatedCost); // run_…, 14
 * await services.close();
 * ```
 */
export async function startWorkflowRun(
  services: Pick<AppServices, 'db' | 'ledger' | 'vault' | 'providers' | 'runs' | 'now'>,
  args: { readonly userId: string; readonly graph: unknown; readonly initialPrompt?: string | undefined },
): Promise<StartedRun> {
  const { userId } = args;
  const graph = withInitialPrompt(args.graph, args.initialPrompt);
  const estimate = estimateWorkflow(graph, services.providers);
  const checked = validateGraph(graph, services.runs.registry);
  if (!checked.ok) {
    throw new ApiError('GRAPH_INVALID', 'The workflow graph is invalid.', {
      details: { issues: checked.issues },
    });
  }

  const missing = missingProviderKeys({
    graph: checked.graph,
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
  const amount = estimate.total;
  const hold =
    amount > 0
      ? await services.ledger.reserve({
          userId,
          runId,
          amount,
          expiresInMs: services.runs.holdTtlMs,
          reason: `Hold for run ${runId}`,
        })
      : undefined;
  try {
    await services.db
      .insertInto('runs')
      .values({
        id: runId,
        user_id: userId,
        status: 'queued',
        graph: JSON.stringify(checked.graph),
        estimated_cost: amount,
        hold_id: hold?.id ?? null,
        // Millisecond timestamps from the app clock: the history cursor compares them exactly.
        created_at: services.now(),
      })
      .execute();
  } catch (error) {
    if (hold !== undefined) await services.ledger.release({ holdId: hold.id });
    throw error;
  }
  await services.runs.submit(runId);
  return { runId, estimatedCost: amount, status: 'queued' };
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

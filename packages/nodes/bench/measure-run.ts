import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type RunEvent, type WorkflowGraphInput } from '@vidgenie/engine';
import {
  createFsBlobStore,
  createShortVideoRegistry,
  type MediaTools,
  type ProviderRegistry,
} from '@vidgenie/nodes';

/** One run's timings, in ms. */
export interface RunTiming {
  /** From `engine.run` to its outcome. */
  readonly wall: number;
  /** The sum of the nodes' own durations (`node.completed`); the template's nodes run one after another. */
  readonly inNodes: number;
}

/** The middle value. */
export const median = (values: readonly number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** The engine's share of a run's wall time: what was spent outside node bodies (scheduling, checkpoints, events). */
export const engineShare = ({ wall, inNodes }: RunTiming): number => Math.max(0, wall - inNodes) / wall;

/**
 * Runs a graph once on a fresh engine (the short-video nodes over `providers`, a blob store in a
 * temporary folder that is removed afterwards) and times it. Throws unless the run completes.
 */
export async function measureRun(args: {
  readonly providers: ProviderRegistry;
  readonly graph: WorkflowGraphInput;
  readonly media: MediaTools;
  /** Provider keys by secret name (`openai`, `runway`...). */
  readonly keys?: Readonly<Record<string, string>>;
}): Promise<RunTiming> {
  const root = await mkdtemp(join(tmpdir(), 'vidgenie-bench-'));
  try {
    const engine = createEngine({
      registry: createShortVideoRegistry({ providers: args.providers }),
      services: { blobs: createFsBlobStore({ root }), media: args.media },
      secrets: ({ name }) => args.keys?.[name],
    });
    let inNodes = 0;
    const onEvent = (event: RunEvent) => {
      if (event.type === 'node.completed') inNodes += event.durationMs;
    };
    const started = performance.now();
    const outcome = await engine.run(args.graph, { onEvent });
    const wall = performance.now() - started;
    if (outcome.status !== 'completed') {
      const reason = outcome.status === 'failed' ? `: ${outcome.error.message}` : '';
      throw new Error(`the pipeline did not complete (${outcome.status}${reason})`);
    }
    return { wall, inNodes };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

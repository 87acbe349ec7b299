import { ImageRef, type ProviderRegistry, VideoRef } from '@vidgenie/nodes';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { DB } from '../db/schema.ts';
import { newId } from '../ids/new-id.ts';
import type { RunEnded } from '../runs/run-executor.ts';

/** Options of {@link recordContent}. */
export interface RecordContentOptions {
  readonly db: Kysely<DB>;
  /** The server's providers: a node without a `provider` in its config used the first of its kind. */
  readonly providers: ProviderRegistry;
  /** The clock for `created_at` (default: the system clock), as runs use the services' clock. */
  readonly now?: () => Date;
}

/** The part of a stored graph the recorder reads. */
const StoredGraph = z.object({
  nodes: z.array(
    z.looseObject({ id: z.string(), type: z.string(), config: z.record(z.string(), z.unknown()).optional() }),
  ),
  edges: z
    .array(z.looseObject({ source: z.string(), target: z.string(), targetHandle: z.string().optional() }))
    .default([]),
});
type StoredGraph = z.output<typeof StoredGraph>;

const Text = z.string();
const OutputNodeOutput = z.looseObject({
  video: VideoRef.optional(),
  thumbnail: ImageRef.optional(),
  image: ImageRef.optional(),
  original: Text.optional(),
  durationSeconds: z.number().positive().optional(),
  width: z.number().int().positive().optional(),
  height: z.number().int().positive().optional(),
  bytes: z.number().int().nonnegative().optional(),
});

const MAX_PROMPT = 10_000;
const MAX_ENHANCED = 20_000;

/**
 * The run executor's `onRunEnded` listener for the content library: for a completed run that made
 * a video or an image, writes one `contents` row from the engine's outputs. The graph stored with
 * the run says which node is which: the `output` node gives the final video, thumbnail and the
 * probed duration, resolution and size; otherwise the `video` and `image` nodes' references are
 * used. The nodes feeding the output (along the graph's edges, else the first of each type) give the
 * prompt, the enhanced prompt and the provider ids. Cost is what the run captured.
 *
 * Idempotent: `run_id` is unique and the insert is `on conflict do nothing`, so a run whose end is
 * reported twice (resumed after a crash) records once. Other runs (failed, cancelled, or with no
 * media) record nothing.
 *
 * @example
 * ```ts
 * import { createRunExecutor, createServices, loadConfig, recordContent } from '@vidgenie/server';
 * const services = await createServices(loadConfig({ VIDGENIE_DATA_DIR: './.vidgenie-example' }));
 * const { db, providers } = services;
 * const executor = createRunExecutor({
 *   ...services,
 *   dataDir: services.config.VIDGENIE_DATA_DIR,
 *   onRunEnded: [(ended) => recordContent({ db, providers }, ended)],
 * });
 * ```
 */
export async function recordContent(options: RecordContentOptions, ended: RunEnded): Promise<void> {
  if (ended.status !== 'completed' || ended.outcome.status !== 'completed') return;
  const { db, providers } = options;
  const stored =
    ended.graph ??
    (
      await db
        .selectFrom('runs')
        .select('graph')
        .where('id', '=', ended.runId)
        .where('user_id', '=', ended.userId)
        .executeTakeFirst()
    )?.graph;
  const graph = StoredGraph.safeParse(stored);
  if (!graph.success) return;
  const outputs = ended.outcome.outputs;
  const pick = pickerFor(graph.data, outputs);

  const outputId = pick('output');
  const final = OutputNodeOutput.safeParse(outputId === undefined ? undefined : outputs[outputId]);
  const out = final.success ? final.data : undefined;
  const videoId = pick('video', outputId === undefined ? [] : [[outputId, 'video']]);
  const video = out?.video ?? field(VideoRef, outputs, videoId, 'video');
  const imageId = pick('image', [
    ...(videoId === undefined ? [] : ([[videoId, 'image']] as const)),
    ...(outputId === undefined ? [] : ([[outputId, 'image']] as const)),
  ]);
  const image = out?.image ?? field(ImageRef, outputs, imageId, 'image');
  if (video === undefined && image === undefined) return;
  const enhanceId = pick(
    'enhance',
    [imageId, videoId, outputId].flatMap((id) => (id === undefined ? [] : [[id, 'prompt'] as const])),
  );
  const promptId = pick('prompt', enhanceId === undefined ? [] : [[enhanceId, 'prompt']]);
  const prompt =
    field(Text, outputs, promptId, 'prompt') ??
    field(Text, outputs, enhanceId, 'original') ??
    out?.original ??
    '';
  const enhanced = field(Text, outputs, enhanceId, 'prompt');
  const providerOf = (nodeId: string | undefined, kind: 'text' | 'image' | 'video') => {
    if (nodeId === undefined) return null;
    const configured = graph.data.nodes.find((node) => node.id === nodeId)?.config?.provider;
    return typeof configured === 'string' ? configured : (providers.ofKind(kind)[0]?.id ?? null);
  };

  await db
    .insertInto('contents')
    .values({
      id: newId('cnt'),
      user_id: ended.userId,
      run_id: ended.runId,
      prompt: prompt.slice(0, MAX_PROMPT),
      enhanced_prompt: enhanced === undefined ? null : enhanced.slice(0, MAX_ENHANCED),
      image_key: image?.key ?? null,
      video_key: video?.key ?? null,
      thumbnail_key: out?.thumbnail?.key ?? null,
      duration_seconds: video === undefined ? null : (out?.durationSeconds ?? video.durationSeconds),
      width: out?.width ?? video?.width ?? image?.width ?? null,
      height: out?.height ?? video?.height ?? image?.height ?? null,
      file_size_bytes: video === undefined ? (image?.bytes ?? 0) : (out?.bytes ?? video.bytes),
      cost_credits: Math.max(0, Math.round(ended.outcome.cost.captured)),
      created_at: (options.now ?? (() => new Date()))(),
      text_provider_id: providerOf(enhanceId, 'text'),
      image_provider_id: providerOf(imageId, 'image'),
      video_provider_id: providerOf(videoId, 'video'),
    })
    .onConflict((conflict) => conflict.column('run_id').doNothing())
    .execute();
}

/**
 * Finds the node of a type that completed: the source of one of the given `[target, handle]`
 * edges if it has that type, else the first such node in the graph.
 */
function pickerFor(graph: StoredGraph, outputs: Readonly<Record<string, unknown>>) {
  const typeOf = new Map(graph.nodes.map((node) => [node.id, node.type]));
  return (type: string, feeding: readonly (readonly [string, string])[] = []): string | undefined => {
    for (const [target, handle] of feeding) {
      const edge = graph.edges.find((e) => e.target === target && e.targetHandle === handle);
      if (edge !== undefined && typeOf.get(edge.source) === type && edge.source in outputs)
        return edge.source;
    }
    return graph.nodes.find((node) => node.type === type && node.id in outputs)?.id;
  };
}

/** `outputs[nodeId][name]` if it parses with `schema`. */
function field<T extends z.ZodType>(
  schema: T,
  outputs: Readonly<Record<string, unknown>>,
  nodeId: string | undefined,
  name: string,
): z.output<T> | undefined {
  if (nodeId === undefined) return undefined;
  const output = outputs[nodeId];
  if (typeof output !== 'object' || output === null) return undefined;
  const parsed = schema.safeParse((output as Record<string, unknown>)[name]);
  return parsed.success ? parsed.data : undefined;
}

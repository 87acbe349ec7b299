import type { ProviderKind, ProviderRegistry } from '@vidgenie/nodes';

/**
 * Seconds per node kind, by where its provider runs. Local figures are measured on a developer
 * machine with the offline providers (the Ken Burns video renders about 2 s per 8 s of video);
 * hosted figures are the real latencies `packages/nodes/bench/hosted-fakes.ts` scales its fakes
 * from (an OpenAI chat completion 2 s, one image 10 s, an 8 s clip about 60 s from submit to done).
 * A rough guide for the UI, not a promise: queueing, retries and provider load are not counted.
 */
export const DURATION_FIGURES = {
  /** `enhance`: rewriting the prompt. */
  enhance: { local: 0, hosted: 2 },
  /** `image`: one picture. */
  image: { local: 1, hosted: 10 },
  /** `video`: per 8 s of video (hosted: one clip; longer videos chain clips). */
  videoPer8Seconds: { local: 2, hosted: 60 },
  /** `output`: thumbnail and packaging with ffmpeg, always local. */
  output: 1,
} as const;

const PROVIDER_KIND: Readonly<Record<string, ProviderKind>> = {
  enhance: 'text',
  image: 'image',
  video: 'video',
};

interface GraphLike {
  readonly nodes?: readonly { readonly id: string; readonly type: string; readonly config?: unknown }[];
  readonly edges?: readonly { readonly source: string; readonly target: string }[];
}

/** Seconds one node should take ({@link DURATION_FIGURES}); 0 for kinds with no figure. @internal */
export function estimateNodeSeconds(
  node: { readonly type: string; readonly config?: unknown },
  providers: ProviderRegistry,
): number {
  const config = (typeof node.config === 'object' && node.config !== null ? node.config : {}) as Record<
    string,
    unknown
  >;
  if (node.type === 'output') return DURATION_FIGURES.output;
  const kind = PROVIDER_KIND[node.type];
  if (kind === undefined) return 0;
  const id = typeof config.provider === 'string' ? config.provider : providers.ofKind(kind)[0]?.id;
  const where = id !== undefined && providers.find(kind, id)?.local === true ? 'local' : 'hosted';
  if (node.type === 'enhance') return DURATION_FIGURES.enhance[where];
  if (node.type === 'image') return DURATION_FIGURES.image[where];
  const seconds = typeof config.durationSeconds === 'number' ? config.durationSeconds : 8;
  return Math.ceil(seconds / 8) * DURATION_FIGURES.videoPer8Seconds[where];
}

/**
 * How long a run of `graph` should take, in whole seconds: the longest path through the graph
 * (independent branches run at once), each node weighted by `estimateNodeSeconds`. Nodes in
 * `skip` (reused by a rerun) count 0. For the short-video template with local providers and 8 s of
 * video: 0 + 0 + 1 + 2 + 1 = 4 s; with hosted ones: 2 + 10 + 60 + 1 = 73 s.
 *
 * @example
 * ```ts
 * import { createProviderRegistry, localProviders, shortVideoTemplate } from '@vidgenie/nodes';
 * import { estimateRunSeconds } from '@vidgenie/server';
 * const providers = createProviderRegistry(localProviders());
 * console.log(estimateRunSeconds(shortVideoTemplate({ durationSeconds: 8 }), providers)); // 4
 * ```
 */
export function estimateRunSeconds(
  graph: unknown,
  providers: ProviderRegistry,
  skip: ReadonlySet<string> = new Set(),
): number {
  const { nodes = [], edges = [] } = (graph ?? {}) as GraphLike;
  const own = new Map(
    nodes.map((node) => [node.id, skip.has(node.id) ? 0 : estimateNodeSeconds(node, providers)]),
  );
  const upstream = new Map<string, string[]>();
  for (const edge of edges) upstream.set(edge.target, [...(upstream.get(edge.target) ?? []), edge.source]);
  const finish = new Map<string, number>();
  const visiting = new Set<string>();
  const finishOf = (id: string): number => {
    const known = finish.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return 0; // a cycle: validation refuses those; do not loop
    visiting.add(id);
    let start = 0;
    for (const source of upstream.get(id) ?? []) start = Math.max(start, finishOf(source));
    const value = start + (own.get(id) ?? 0);
    finish.set(id, value);
    return value;
  };
  let total = 0;
  for (const node of nodes) total = Math.max(total, finishOf(node.id));
  return Math.ceil(total);
}

import { cacheKeyOf } from '../cache/cache-key.ts';
import type { OutputCache } from '../cache/output-cache.ts';
import type { PlanNode } from '../graph/execution-plan.ts';

/**
 * What the output cache holds for a node about to run on `input`: the node's cache key, and the
 * cached output when there is one that still matches the node's output schema. @internal
 */
export async function lookUpCache(args: {
  readonly cache: OutputCache;
  readonly node: PlanNode;
  readonly input: Record<string, unknown>;
}): Promise<{ readonly key: string; readonly hit: unknown }> {
  const { node } = args;
  const { def } = node;
  const key = await cacheKeyOf({
    type: def.type,
    version: def.version,
    config: node.config,
    input: args.input,
  });
  const hit = await args.cache.get({ key });
  return { key, hit: hit !== undefined && def.output.safeParse(hit).success ? hit : undefined };
}

import { type ShortVideoTemplateOptions, shortVideoTemplate } from '@vidgenie/nodes/specs';
import type { WorkflowGraphInput } from './graph-types.ts';

/**
 * The five-node short-video graph: the server's own template (`shortVideoTemplate` of
 * `@vidgenie/nodes`, from its browser-safe entry), with the offline local providers picked so it
 * runs without any key unless `options` names others.
 */
export function shortVideoGraph(options: ShortVideoTemplateOptions = {}): WorkflowGraphInput {
  return shortVideoTemplate({
    ...options,
    textProvider: options.textProvider ?? 'local-text',
    imageProvider: options.imageProvider ?? 'local-image',
    videoProvider: options.videoProvider ?? 'local-video',
  });
}

import type { Content } from '../api/api-types.ts';

/** One fact about a video, labelled by its `key` (`node.duration`, `node.resolution`, `node.size`). */
export interface MediaFact {
  readonly key: 'node.duration' | 'node.resolution' | 'node.size';
  readonly value: string;
}

/** A size in bytes for people: B, kB or MB (decimal units, as file managers show them). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '–';
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(0)} kB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

/** The duration, resolution and size of a content, those it knows, in that order. */
export function mediaFactsOf(
  content: Pick<Content, 'durationSeconds' | 'width' | 'height' | 'fileSizeBytes'>,
): MediaFact[] {
  const facts: MediaFact[] = [];
  if (content.durationSeconds !== null)
    facts.push({ key: 'node.duration', value: `${content.durationSeconds.toFixed(1)} s` });
  if (content.width !== null && content.height !== null)
    facts.push({ key: 'node.resolution', value: `${content.width}×${content.height}` });
  if (content.fileSizeBytes > 0) facts.push({ key: 'node.size', value: formatBytes(content.fileSizeBytes) });
  return facts;
}

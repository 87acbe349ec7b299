import type { ContentRow } from '../db/schema.ts';
import type { MediaKind } from './contents-schemas.ts';

/** A media link of a content: the authorised route, to play and to save. */
export interface ContentMediaLink {
  readonly url: string;
  readonly downloadUrl: string;
}

/** A content as the API shows it: URLs of the authorised media route, never blob keys. */
export interface ContentView {
  readonly id: string;
  readonly runId: string;
  readonly prompt: string;
  readonly enhancedPrompt: string | null;
  readonly media: Readonly<Record<MediaKind, ContentMediaLink | null>>;
  readonly durationSeconds: number | null;
  readonly width: number | null;
  readonly height: number | null;
  readonly fileSizeBytes: number;
  readonly costCredits: number;
  readonly providers: {
    readonly text: string | null;
    readonly image: string | null;
    readonly video: string | null;
  };
  readonly createdAt: string;
}

/**
 * The API view of a `contents` row. Media are `/api/contents/<id>/media/<kind>` paths (relative to
 * the API's origin), present only for the media the content has.
 * @internal
 */
export function contentView(row: ContentRow): ContentView {
  const link = (kind: MediaKind, key: string | null): ContentMediaLink | null => {
    if (key === null) return null;
    const url = `/api/contents/${encodeURIComponent(row.id)}/media/${kind}`;
    return { url, downloadUrl: `${url}?download=1` };
  };
  return {
    id: row.id,
    runId: row.run_id,
    prompt: row.prompt,
    enhancedPrompt: row.enhanced_prompt,
    media: {
      video: link('video', row.video_key),
      image: link('image', row.image_key),
      thumbnail: link('thumbnail', row.thumbnail_key),
    },
    durationSeconds: row.duration_seconds,
    width: row.width,
    height: row.height,
    fileSizeBytes: row.file_size_bytes,
    costCredits: row.cost_credits,
    providers: { text: row.text_provider_id, image: row.image_provider_id, video: row.video_provider_id },
    createdAt: row.created_at.toISOString(),
  };
}

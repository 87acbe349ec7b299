import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DurableState } from '@vidgenie/engine';
import type { MediaTools } from '../media/media-tools.ts';
import type {
  ImageResult,
  ProviderCallContext,
  VideoProvider,
  VideoRequest,
  VideoResult,
} from '../provider/provider-types.ts';

/** The durable state of a chained video: one provider state per segment. */
interface SegmentsState {
  readonly segments: unknown[];
}

/**
 * Makes a video longer than the provider's longest clip from clips of that length: each next clip
 * starts from the previous clip's last frame; the clips are joined and cut to the exact duration.
 * Each clip's provider state (its job id) is kept in the node's durable state under its index, so
 * a resumed run polls the jobs it already paid for. @internal
 */
export async function generateInSegments(args: {
  readonly provider: VideoProvider;
  readonly request: Omit<VideoRequest, 'state'>;
  readonly ctx: ProviderCallContext<Record<string, unknown>>;
  readonly state: DurableState<unknown>;
  readonly media: MediaTools;
}): Promise<VideoResult> {
  const { provider, request, ctx, state, media } = args;
  const clip = provider.capabilities.maxClipSeconds;
  const count = Math.ceil(request.durationSeconds / clip);
  const stored = state.get() as Partial<SegmentsState> | undefined;
  const box: SegmentsState = { segments: Array.isArray(stored?.segments) ? [...stored.segments] : [] };
  const paths: string[] = [];
  try {
    let image: ImageResult = request.image;
    for (let index = 0; index < count; index++) {
      const segmentState: DurableState<unknown> = {
        get: () => box.segments[index],
        set: async (value) => {
          box.segments[index] = value;
          await state.set({ segments: [...box.segments] });
        },
      };
      const result = await provider.generate(
        { ...request, image, durationSeconds: clip, state: segmentState },
        {
          ...ctx,
          progress: (fraction, message) =>
            ctx.progress(
              (index + Math.min(1, Math.max(0, fraction))) / count,
              message ?? `Clip ${index + 1} of ${count}`,
            ),
        },
      );
      paths.push(result.path);
      if (index < count - 1)
        image = await media.posterFrame({ path: result.path, atSeconds: clip, signal: ctx.signal });
    }
    const out = join(tmpdir(), `vidgenie-${crypto.randomUUID()}.mp4`);
    const probe = await media.joinVideos({
      paths,
      out,
      durationSeconds: request.durationSeconds,
      signal: ctx.signal,
    });
    return { path: out, mimeType: 'video/mp4', ...probe };
  } finally {
    await Promise.all(paths.map((path) => rm(path, { force: true })));
  }
}

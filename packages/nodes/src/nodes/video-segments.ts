import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DurableState } from '@vidgenie/engine';
import type { MediaTools } from '../media/media-tools.ts';
import { planSegments, renderChained } from '../media/video-chain.ts';
import type {
  ProviderCallContext,
  VideoProvider,
  VideoRequest,
  VideoResult,
} from '../provider/provider-types.ts';

/** The durable state of a chained video: one provider state per clip. */
interface SegmentsState {
  readonly segments: unknown[];
}

/**
 * Makes a video longer than what one provider call makes (`capabilities.maxClipSeconds`) from
 * clips of that length, with the shared `renderChained`: each next clip starts from the previous
 * clip's last frame; the clips are joined and cut to the exact duration. Each clip's provider
 * state (its job id) is kept in the node's durable state under its index, so a resumed run polls
 * the jobs it already paid for. @internal
 */
export async function generateInSegments(args: {
  readonly provider: VideoProvider;
  readonly request: Omit<VideoRequest, 'state'>;
  readonly ctx: ProviderCallContext<Record<string, unknown>>;
  readonly state: DurableState<unknown>;
  readonly media: MediaTools;
}): Promise<VideoResult> {
  const { provider, request, ctx, state, media } = args;
  const stored = state.get() as Partial<SegmentsState> | undefined;
  const box: SegmentsState = { segments: Array.isArray(stored?.segments) ? [...stored.segments] : [] };
  const folder = await mkdtemp(join(tmpdir(), 'vidgenie-segments-'));
  try {
    return await renderChained({
      plan: planSegments(request.durationSeconds, [provider.capabilities.maxClipSeconds]),
      totalSeconds: request.durationSeconds,
      image: request.image,
      folder,
      output: `${folder}.mp4`,
      signal: ctx.signal,
      media,
      progress: ctx.progress,
      async renderClip(job) {
        const clip = await provider.generate(
          {
            ...request,
            image: job.image,
            durationSeconds: job.seconds,
            state: {
              get: () => box.segments[job.index],
              set: async (value) => {
                box.segments[job.index] = value;
                await state.set({ segments: [...box.segments] });
              },
            },
          },
          { ...ctx, progress: job.progress },
        );
        await rename(clip.path, job.output);
      },
    });
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

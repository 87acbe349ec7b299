import type { ImageResult } from '../provider/provider-types.ts';

/** What a video file holds, read back from the file itself. */
export interface VideoProbe {
  readonly durationSeconds: number;
  readonly width: number;
  readonly height: number;
}

/**
 * Media operations nodes need beyond providers: reading a video's real duration and resolution,
 * and grabbing a poster frame. The default implementation runs ffmpeg (`createFfmpegMediaTools`).
 */
export interface MediaTools {
  probeVideo(args: { readonly path: string; readonly signal?: AbortSignal }): Promise<VideoProbe>;
  /**
   * Joins videos end to end into one H.264 MP4 at `out`, cut to exactly `durationSeconds`
   * (segments of one provider share a size and frame rate).
   */
  joinVideos(args: {
    readonly paths: readonly string[];
    readonly out: string;
    readonly durationSeconds: number;
    readonly signal?: AbortSignal;
  }): Promise<VideoProbe>;
  /**
   * A PNG of the frame at `atSeconds` (default: 1 s in, or the middle of shorter videos); a time
   * past the end gives the last frame.
   */
  posterFrame(args: {
    readonly path: string;
    readonly atSeconds?: number;
    readonly signal?: AbortSignal;
  }): Promise<ImageResult>;
}

import type { ImageResult } from '../provider/provider-types.ts';

/** What a video file holds, read back from the file itself. */
export interface VideoProbe {
  readonly durationSeconds: number;
  readonly width: number;
  readonly height: number;
}

/** A video's {@link VideoProbe} and its default poster frame, read together. */
export interface VideoInspection extends VideoProbe {
  /** The frame `posterFrame` gives by default (1 s in, or the middle of shorter videos). */
  readonly poster: ImageResult;
}

/**
 * Media operations nodes need beyond providers: reading a video's real duration and resolution,
 * and grabbing a poster frame. The default implementation runs ffmpeg (`createFfmpegMediaTools`).
 */
export interface MediaTools {
  probeVideo(args: { readonly path: string; readonly signal?: AbortSignal }): Promise<VideoProbe>;
  /**
   * A PNG of the frame at `atSeconds` (default: 1 s in, or the middle of shorter videos); a time
   * past the end gives the last frame.
   */
  posterFrame(args: {
    readonly path: string;
    readonly atSeconds?: number;
    /** The video's duration when the caller has probed it already (saves reading it again). */
    readonly durationSeconds?: number;
    readonly signal?: AbortSignal;
  }): Promise<ImageResult>;
  /**
   * Optional: `probeVideo` and a default `posterFrame` at once, for callers that want both (the
   * output node). The ffmpeg tools read both in one ffmpeg process for videos of 2 s or more,
   * instead of one process each. Callers without it call the two.
   */
  inspectVideo?(args: { readonly path: string; readonly signal?: AbortSignal }): Promise<VideoInspection>;
}

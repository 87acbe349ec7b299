import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageResult, VideoResult } from '../provider/provider-types.ts';
import { runFfmpeg } from './ffmpeg.ts';
import { pngSize } from './ffmpeg-media-tools.ts';
import type { MediaTools } from './media-tools.ts';

/**
 * Splits a video of `totalSeconds` into the fewest clips a provider can make, each of a length
 * it allows (`allowed`, e.g. 2…10 for Runway, 4 | 6 | 8 for Veo), as even as possible. The clips
 * add up to `totalSeconds`, or a little more when the allowed lengths cannot make it exactly
 * (the joined video is then trimmed).
 *
 * @example
 * ```text
 * planSegments(15, [2, 3, 4, 5, 6, 7, 8, 9, 10]); // [8, 7]
 * planSegments(15, [4, 6, 8]); // [8, 8] (trimmed to 15 s)
 * planSegments(60, [4, 6, 8]); // [8, 8, 8, 8, 8, 8, 8, 4]
 * ```
 */
export function planSegments(totalSeconds: number, allowed: readonly number[]): number[] {
  const lengths = [...new Set(allowed)].filter((n) => n > 0).sort((a, b) => a - b);
  const longest = lengths.at(-1);
  if (longest === undefined) throw new RangeError('No clip length is allowed.');
  if (!(totalSeconds > 0)) throw new RangeError(`Cannot plan ${totalSeconds} s of video.`);
  const count = Math.ceil(totalSeconds / longest);
  const plan: number[] = [];
  let remaining = totalSeconds;
  for (let left = count; left > 0; left--) {
    const wanted = remaining / left;
    const length = lengths.find((n) => n >= wanted - 1e-9) ?? longest;
    plan.push(length);
    remaining -= length;
  }
  return plan;
}

/**
 * The last frame of a video as a PNG: ffmpeg decodes the final second and keeps the last frame
 * written, so it works whatever the frame rate or keyframe spacing.
 */
export async function lastFrame(path: string, folder: string, signal: AbortSignal): Promise<ImageResult> {
  const out = join(folder, `last-frame-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.png`);
  // biome-ignore format: one ffmpeg option per line
  await runFfmpeg([
    '-loglevel', 'error', '-y',
    '-sseof', '-1', '-i', path,
    '-update', '1', '-f', 'image2', '-c:v', 'png',
    out,
  ], { signal });
  const bytes = new Uint8Array(await readFile(out));
  await rm(out, { force: true });
  const size = pngSize(bytes);
  if (size === undefined) throw new Error(`ffmpeg made no last frame of "${path}".`);
  return { bytes, mimeType: 'image/png', ...size };
}

/**
 * Joins clips of the same codec and size into one MP4 without re-encoding (ffmpeg's concat
 * demuxer), optionally cut at `maxSeconds`.
 */
export async function concatClips(args: {
  readonly paths: readonly string[];
  readonly output: string;
  readonly folder: string;
  readonly signal: AbortSignal;
  readonly maxSeconds?: number | undefined;
}): Promise<void> {
  const list = join(args.folder, 'concat.txt');
  await writeFile(list, args.paths.map((p) => `file '${p.replaceAll("'", "'\\''")}'\n`).join(''));
  // biome-ignore format: one ffmpeg option per line
  await runFfmpeg([
    '-loglevel', 'error', '-y',
    '-f', 'concat', '-safe', '0', '-i', list,
    '-c', 'copy',
    ...(args.maxSeconds === undefined ? [] : ['-t', args.maxSeconds.toFixed(3)]),
    '-movflags', '+faststart',
    args.output,
  ], { signal: args.signal });
}

/** What {@link renderChained} asks a provider to do for one clip. */
export interface ClipJob {
  /** The clip's index, from 0. */
  readonly index: number;
  /** How many clips the video has. */
  readonly count: number;
  /** The clip's length, in seconds. */
  readonly seconds: number;
  /** Its first frame: the request's image, then the last frame of the previous clip. */
  readonly image: ImageResult;
  /** Where to write the clip's MP4. */
  readonly output: string;
  readonly signal: AbortSignal;
  /** The clip's own progress in [0, 1); mapped onto the whole video's. */
  progress(fraction: number, message?: string): void;
}

/**
 * Makes a video from clips (one, or several chained when the video is longer than the provider's
 * longest clip): each clip starts from the previous one's last frame, and the clips are joined
 * with ffmpeg's concat. The result is probed so that its duration and size are the real ones.
 * Everything happens in `folder` (the caller creates and removes it); the final MP4 is moved to
 * `output`.
 */
export async function renderChained(args: {
  readonly plan: readonly number[];
  readonly totalSeconds: number;
  readonly image: ImageResult;
  readonly folder: string;
  readonly output: string;
  readonly signal: AbortSignal;
  readonly media: MediaTools;
  progress(fraction: number, message?: string): void;
  renderClip(job: ClipJob): Promise<void>;
}): Promise<VideoResult> {
  const { plan, folder, signal } = args;
  const count = plan.length;
  const clips: string[] = [];
  let image = args.image;
  for (const [index, seconds] of plan.entries()) {
    const output = join(folder, `clip-${index}.mp4`);
    const prefix = count > 1 ? `Clip ${index + 1} of ${count}: ` : '';
    await args.renderClip({
      index,
      count,
      seconds,
      image,
      output,
      signal,
      progress: (fraction, message) =>
        args.progress(
          (index + Math.min(0.99, Math.max(0, fraction))) / count,
          message === undefined ? undefined : `${prefix}${message}`,
        ),
    });
    clips.push(output);
    if (index < count - 1) image = await lastFrame(output, folder, signal);
  }
  const planned = plan.reduce((sum, n) => sum + n, 0);
  const joined = join(folder, 'video.mp4');
  if (count === 1 && planned <= args.totalSeconds) await rename(clips[0]!, joined);
  else {
    args.progress(0.99, 'Joining the clips');
    await concatClips({
      paths: clips,
      output: joined,
      folder,
      signal,
      maxSeconds: planned > args.totalSeconds ? args.totalSeconds : undefined,
    });
  }
  const probe = await args.media.probeVideo({ path: joined, signal });
  await rename(joined, args.output);
  return { path: args.output, mimeType: 'video/mp4', ...probe };
}

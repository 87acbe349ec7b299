import type { ImageResult } from '../provider/provider-types.ts';
import { runFfmpeg, stderrTail } from './ffmpeg.ts';
import type { MediaTools, VideoProbe } from './media-tools.ts';
import { probeMp4 } from './probe-mp4.ts';

/**
 * Media tools backed by the ffmpeg binary of {@link ffmpegPath} (ffprobe is not shipped):
 *
 * - `probeVideo` reads the container duration and the first video stream's size: from the
 *   `moov` box of an MP4 (with mp4box, in this process: no ffmpeg start for what providers
 *   deliver), else from what `ffmpeg -i <file>` prints (no frame is decoded); the same figures;
 * - `posterFrame` decodes one frame to PNG, by default 1 s in (or the middle of videos shorter
 *   than 2 s); a time past the end is clamped to the last frame;
 * - `inspectVideo` does both in one ffmpeg process (two for videos shorter than 2 s): the frame at
 *   1 s, and the duration and size from the header ffmpeg prints while reading it.
 *
 * @example
 * ```ts
 * import { createFfmpegMediaTools } from '@vidgenie/nodes';
 * const media = createFfmpegMediaTools();
 * const { durationSeconds, width, height } = await media.probeVideo({ path: 'clip.mp4' });
 * const poster = await media.posterFrame({ path: 'clip.mp4' });
 * console.log(durationSeconds, `${width}x${height}`, poster.mimeType); // 8 720x1280 image/png
 * const both = await media.inspectVideo?.({ path: 'clip.mp4' }); // the same, in one process
 * ```
 */
export function createFfmpegMediaTools(): MediaTools {
  const probeVideo: MediaTools['probeVideo'] = async ({ path, signal }) => {
    // MP4 headers are read here (no process to start); other files, and MP4s mp4box cannot read, by ffmpeg.
    const read = await probeMp4(path, signal);
    if (read !== undefined) return read;
    const { stderr } = await runFfmpeg(
      ['-threads', '1', '-i', path, '-map', '0:v:0', '-frames:v', '0', '-f', 'null', '-'],
      { signal },
    );
    return parseProbe(stderr, path);
  };

  /**
   * One frame at `at` seconds as PNG, and what ffmpeg printed about the input (its header). One
   * decoding thread: for the few frames from the keyframe to `at`, threads cost more to start than
   * they save (0.20 s of CPU against 0.25 s for an 8 s 720x1280 clip, and no slower), and the
   * slots already give each process a core.
   */
  const frameAt = async (path: string, at: number, signal: AbortSignal | undefined) => {
    const { stdout, stderr } = await runFfmpeg(
      // biome-ignore format: input options, then output options, as on a command line
      [
        '-threads', '1', '-ss', at.toFixed(3), '-i', path,
        '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'png', 'pipe:1',
      ],
      { signal },
    );
    const size = pngSize(stdout);
    const poster: ImageResult | undefined =
      size === undefined ? undefined : { bytes: new Uint8Array(stdout), mimeType: 'image/png', ...size };
    return { poster, stderr };
  };
  const noFrame = (path: string, at: number, stderr: string) =>
    new Error(`ffmpeg made no poster frame at ${at.toFixed(3)} s of "${path}":\n${stderrTail(stderr)}`);

  const posterFrame: MediaTools['posterFrame'] = async ({ path, atSeconds, durationSeconds, signal }) => {
    const duration =
      durationSeconds ??
      (await probeVideo({ path, ...(signal === undefined ? {} : { signal }) })).durationSeconds;
    const at = posterTime(duration, atSeconds);
    const { poster, stderr } = await frameAt(path, at, signal);
    if (poster === undefined) throw noFrame(path, at, stderr);
    return poster;
  };

  const tools: MediaTools = {
    probeVideo,
    posterFrame,
    async inspectVideo({ path, signal }) {
      // The default frame of any video of 2 s or more is at 1 s: ask for it and read the header
      // ffmpeg prints on the way. A shorter video's frame is at its middle: a second process.
      const { poster, stderr } = await frameAt(path, 1, signal);
      const probe = parseProbe(stderr, path);
      if (probe.durationSeconds >= 2) {
        if (poster === undefined) throw noFrame(path, 1, stderr);
        return { ...probe, poster };
      }
      const short = await posterFrame({
        path,
        durationSeconds: probe.durationSeconds,
        ...(signal === undefined ? {} : { signal }),
      });
      return { ...probe, poster: short };
    },
  };
  return Object.freeze(tools);
}

/**
 * When the poster frame is taken: `atSeconds`, else 1 s in (the middle of videos shorter than
 * 2 s), kept a frame's length (at most) before the end, where a frame still exists.
 */
function posterTime(durationSeconds: number, atSeconds: number | undefined): number {
  const wanted = atSeconds ?? Math.min(1, durationSeconds / 2);
  return Math.max(0, Math.min(wanted, durationSeconds - 0.1));
}

/** Reads duration and size from `ffmpeg -i` output. @internal */
export function parseProbe(stderr: string, path: string): VideoProbe {
  const duration = /Duration:\s*(\d+):(\d{2}):(\d{2}(?:\.\d+)?)/.exec(stderr);
  const stream = /Stream #\d+:\d+[^\n]*?: Video: [^\n]*?\b(\d{2,5})x(\d{2,5})\b/.exec(stderr);
  if (duration === null || stream === null) {
    throw new Error(`"${path}" has no readable video duration or size:\n${stderrTail(stderr)}`);
  }
  const [, hours, minutes, seconds] = duration;
  const durationSeconds = Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds);
  if (!(durationSeconds > 0)) throw new Error(`"${path}" has no duration (${duration[0]}).`);
  return { durationSeconds, width: Number(stream[1]), height: Number(stream[2]) };
}

/** The size in a PNG's IHDR chunk, or undefined when `bytes` is not a PNG. @internal */
export function pngSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 24 || signature.some((b, i) => bytes[i] !== b)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

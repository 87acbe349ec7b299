import type { ImageResult } from '../provider/provider-types.ts';
import { runFfmpeg, stderrTail } from './ffmpeg.ts';
import type { MediaTools, VideoProbe } from './media-tools.ts';

/**
 * Media tools backed by the ffmpeg binary of {@link ffmpegPath} (ffprobe is not shipped):
 *
 * - `probeVideo` reads the container duration and the first video stream's size from what
 *   `ffmpeg -i <file>` prints (no frame is decoded);
 * - `posterFrame` decodes one frame to PNG, by default 1 s in (or the middle of videos shorter
 *   than 2 s); a time past the end is clamped to the last frame.
 *
 * @example
 * ```ts
 * import { createFfmpegMediaTools } from '@vidgenie/nodes';
 * const media = createFfmpegMediaTools();
 * const { durationSeconds, width, height } = await media.probeVideo({ path: 'clip.mp4' });
 * const poster = await media.posterFrame({ path: 'clip.mp4' });
 * console.log(durationSeconds, `${width}x${height}`, poster.mimeType); // 8 720x1280 image/png
 * ```
 */
export function createFfmpegMediaTools(): MediaTools {
  const probeVideo: MediaTools['probeVideo'] = async ({ path, signal }) => {
    const { stderr } = await runFfmpeg(['-i', path, '-map', '0:v:0', '-frames:v', '0', '-f', 'null', '-'], {
      signal,
    });
    return parseProbe(stderr, path);
  };

  const tools: MediaTools = {
    probeVideo,
    async posterFrame({ path, atSeconds, durationSeconds, signal }): Promise<ImageResult> {
      const duration =
        durationSeconds ??
        (await probeVideo({ path, ...(signal === undefined ? {} : { signal }) })).durationSeconds;
      const wanted = atSeconds ?? Math.min(1, duration / 2);
      // Stay a frame's length (at most) before the end, where a frame still exists.
      const at = Math.max(0, Math.min(wanted, duration - 0.1));
      const { stdout, stderr } = await runFfmpeg(
        ['-ss', at.toFixed(3), '-i', path, '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'png', 'pipe:1'],
        { signal },
      );
      const size = pngSize(stdout);
      if (size === undefined) {
        throw new Error(
          `ffmpeg made no poster frame at ${at.toFixed(3)} s of "${path}":\n${stderrTail(stderr)}`,
        );
      }
      return { bytes: new Uint8Array(stdout), mimeType: 'image/png', ...size };
    },
  };
  return Object.freeze(tools);
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

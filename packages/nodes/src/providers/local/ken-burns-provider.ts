import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { runFfmpeg } from '../../media/ffmpeg.ts';
import { defineProvider } from '../../provider/define-provider.ts';
import { CREDIT_PRICES } from '../../provider/pricing.ts';
import type { AspectRatio, MotionIntensity } from '../../provider/provider-types.ts';
import { hashString } from './prompt-scene.ts';

const FPS = 30;
/** Output resolution per aspect ratio. */
const OUTPUT_SIZE: Readonly<Record<AspectRatio, readonly [number, number]>> = {
  '9:16': [720, 1280],
  '16:9': [1280, 720],
  '1:1': [1080, 1080],
};
/** Zoom per second (capped at +50% over a clip) and pan (share of the free margin) per motion. */
const MOTION: Readonly<Record<MotionIntensity, { readonly zoomPerSecond: number; readonly pan: number }>> = {
  low: { zoomPerSecond: 0.01, pan: 0.12 },
  medium: { zoomPerSecond: 0.022, pan: 0.3 },
  high: { zoomPerSecond: 0.04, pan: 0.5 },
};
const MAX_ZOOM_GAIN = 0.5;
const EXTENSIONS: Readonly<Record<string, string>> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
};

/**
 * The ffmpeg filter of a Ken Burns move: the image is scaled to cover twice the output size (so the
 * crop moves in half-pixel steps), then `zoompan` eases the zoom and a pan across it, one output
 * frame per step. The zoom direction (in or out) and the pan direction come from `seed`. @internal
 */
export function kenBurnsFilter(args: {
  readonly width: number;
  readonly height: number;
  readonly frames: number;
  readonly motion: MotionIntensity;
  readonly seed: number;
}): string {
  const { width, height, frames, motion, seed } = args;
  const { zoomPerSecond, pan } = MOTION[motion];
  const gain = Math.min(MAX_ZOOM_GAIN, (zoomPerSecond * frames) / FPS);
  const zoomIn = (seed & 1) === 0;
  const [z0, z1] = zoomIn ? [1, 1 + gain] : [1 + gain, 1];
  const dirX = seed & 2 ? 1 : -1;
  const dirY = seed & 4 ? 1 : -1;
  const [x0, x1] = [0.5 - (dirX * pan) / 2, 0.5 + (dirX * pan) / 2];
  const [y0, y1] = [0.5 - (dirY * pan) / 4, 0.5 + (dirY * pan) / 4];
  const t = `(on/${Math.max(1, frames - 1)})`;
  const ease = `(${t}*${t}*(3-2*${t}))`;
  const n = (v: number) => v.toFixed(5);
  return [
    `scale=${width * 2}:${height * 2}:force_original_aspect_ratio=increase`,
    `crop=${width * 2}:${height * 2}`,
    `zoompan=z='${n(z0)}+${n(z1 - z0)}*${ease}'` +
      `:x='(iw-iw/zoom)*(${n(x0)}+${n(x1 - x0)}*${ease})'` +
      `:y='(ih-ih/zoom)*(${n(y0)}+${n(y1 - y0)}*${ease})'` +
      `:d=${frames}:s=${width}x${height}:fps=${FPS}`,
    'setsar=1',
    'format=yuv420p',
  ].join(',');
}

/** Reads `out_time_us` (or `out_time_ms`, also microseconds) from ffmpeg's `-progress` lines. */
function progressParser(onSeconds: (seconds: number) => void): (chunk: Buffer) => void {
  let pending = '';
  return (chunk) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const match = /^out_time_(?:us|ms)=(\d+)/.exec(line.trim());
      if (match !== null) onSeconds(Number(match[1]) / 1e6);
    }
  };
}

/**
 * The offline video renderer: a Ken Burns move (a slow, eased zoom and pan) over the input image,
 * rendered by ffmpeg's `zoompan` into an H.264 MP4 (yuv420p, 30 fps, `+faststart`) of exactly
 * `durationSeconds`, at 720x1280 for 9:16, 1280x720 for 16:9 and 1080x1080 for 1:1. `motion`
 * sets the zoom speed and the pan; the prompt's hash picks the directions. Progress comes from
 * ffmpeg's `-progress` output; aborting kills ffmpeg. ffmpeg works in a `vidgenie-` mkdtemp folder
 * of the OS temp dir, removed afterwards; the MP4 is returned beside it (`<tmp>/vidgenie-XXXXXX.mp4`)
 * for the caller to move or delete. An 8 s 720x1280 clip takes about 2 s on 2 cores.
 *
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * import { localProviders } from '@vidgenie/nodes';
 * const video = localProviders().find((p) => p.id === 'local-video');
 * if (video?.kind === 'video') {
 *   const image = { bytes: await readFile('first-frame.png'), mimeType: 'image/png', width: 576, height: 1024 };
 *   const clip = await video.generate(
 *     { prompt: 'a red fox', image, durationSeconds: 8, motion: 'medium', aspectRatio: '9:16',
 *       state: { get: () => undefined, set: async () => {} } },
 *     { config: {}, apiKey: undefined, signal: new AbortController().signal, progress: () => {} },
 *   );
 *   console.log(clip.path, clip.width, clip.height, clip.durationSeconds); // /tmp/vidgenie-…mp4 720 1280 8
 * }
 * ```
 */
export const kenBurnsProvider = defineProvider({
  id: 'local-video',
  displayName: 'Ken Burns renderer (offline)',
  kind: 'video',
  local: true,
  config: z.object({}),
  capabilities: {
    durations: [8, 15, 30, 60],
    aspectRatios: ['9:16', '16:9', '1:1'],
    resolutions: ['720x1280', '1280x720', '1080x1080'],
    maxClipSeconds: 60,
  },
  price: ({ durationSeconds }) => CREDIT_PRICES.video[durationSeconds],
  async generate({ prompt, image, durationSeconds, motion, aspectRatio }, { signal, progress }) {
    signal.throwIfAborted();
    const [width, height] = OUTPUT_SIZE[aspectRatio];
    const frames = durationSeconds * FPS;
    const folder = await mkdtemp(join(tmpdir(), 'vidgenie-'));
    const input = join(folder, `first-frame.${EXTENSIONS[image.mimeType] ?? 'img'}`);
    const output = join(folder, 'ken-burns.mp4');
    try {
      await writeFile(input, image.bytes);
      progress(0, `Rendering ${durationSeconds} s at ${width}x${height}`);
      const filter = kenBurnsFilter({
        width,
        height,
        frames,
        motion,
        seed: hashString(`${prompt}\n${image.bytes.length}`),
      });
      // biome-ignore format: one ffmpeg option per line
      const args = [
        '-nostats', '-loglevel', 'error', '-progress', 'pipe:1', '-y',
        '-i', input,
        '-vf', filter,
        '-frames:v', String(frames), '-r', String(FPS),
        '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '21', '-pix_fmt', 'yuv420p',
        '-movflags', '+faststart', '-an',
        output,
      ];
      let reported = 0;
      await runFfmpeg(args, {
        signal,
        onStdout: progressParser((seconds) => {
          const fraction = Math.min(0.99, seconds / durationSeconds);
          if (fraction >= reported + 0.01) {
            reported = fraction;
            progress(fraction, 'Rendering');
          }
        }),
      });
      // Out of the working folder, so the caller's removal of the file leaves nothing behind.
      const path = `${folder}.mp4`;
      await rename(output, path);
      progress(1);
      return { path, mimeType: 'video/mp4', width, height, durationSeconds };
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  },
});

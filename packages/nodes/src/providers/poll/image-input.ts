import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runFfmpeg } from '../../media/ffmpeg.ts';
import type { ImageResult } from '../../provider/provider-types.ts';

const EXTENSIONS: Readonly<Record<string, string>> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
};

/**
 * The image as a `data:` URI of at most `maxChars` characters. A larger image is re-encoded by
 * ffmpeg as a JPEG (its longer side capped at `maxSide` pixels); returns undefined if even that
 * does not fit. `folder` is a scratch folder for ffmpeg.
 */
export async function imageDataUri(args: {
  readonly image: ImageResult;
  readonly maxChars: number;
  readonly folder: string;
  readonly signal: AbortSignal;
  readonly maxSide?: number;
}): Promise<string | undefined> {
  const { image, maxChars, folder, signal } = args;
  const uri = toDataUri(image.bytes, image.mimeType);
  if (uri.length <= maxChars) return uri;
  const side = args.maxSide ?? 2048;
  const input = join(folder, `input-image.${EXTENSIONS[image.mimeType] ?? 'img'}`);
  const output = join(folder, 'input-image-small.jpg');
  await writeFile(input, image.bytes);
  // Fit within side x side, keeping the aspect ratio (and even dimensions for the encoder).
  const fit = `scale='if(gt(iw,ih),min(${side},iw),-2)':'if(gt(iw,ih),-2,min(${side},ih))'`;
  for (const quality of [3, 8, 16]) {
    // biome-ignore format: one ffmpeg option per line
    await runFfmpeg([
      '-loglevel', 'error', '-y',
      '-i', input,
      '-vf', fit,
      '-frames:v', '1', '-q:v', String(quality),
      output,
    ], { signal });
    const smaller = toDataUri(new Uint8Array(await readFile(output)), 'image/jpeg');
    if (smaller.length <= maxChars) return smaller;
  }
  return undefined;
}

function toDataUri(bytes: Uint8Array, mimeType: string): string {
  return `data:${mimeType};base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}`;
}

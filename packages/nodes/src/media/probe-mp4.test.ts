import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFfmpeg } from './ffmpeg.ts';
import { parseProbe } from './ffmpeg-media-tools.ts';
import { probeMp4 } from './probe-mp4.ts';

let folder: string;
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'vidgenie-probe-mp4-'));
});
afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

/** Encodes a test pattern with ffmpeg; `extra` are output options. */
async function encode(name: string, source: string, extra: readonly string[] = []): Promise<string> {
  const path = join(folder, name);
  // biome-ignore format: one option per line
  await runFfmpeg([
    '-loglevel', 'error',
    '-f', 'lavfi', '-i', source,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p',
    ...extra, '-y', path,
  ]);
  return path;
}

/** What ffmpeg itself reads from the file's header. */
async function ffmpegProbe(path: string) {
  const { stderr } = await runFfmpeg(['-i', path, '-map', '0:v:0', '-frames:v', '0', '-f', 'null', '-']);
  return parseProbe(stderr, path);
}

describe('probeMp4', () => {
  // Sizes, frame rates (NTSC's 30000/1001 too), lengths that are not whole seconds, the moov at the
  // end or at the start, the MOV container.
  const variants: readonly [string, string, readonly string[]][] = [
    ['portrait.mp4', 'testsrc=size=180x320:rate=24:duration=8', []],
    ['faststart.mp4', 'testsrc=size=320x240:rate=25:duration=3', ['-movflags', '+faststart']],
    ['ntsc.mp4', 'testsrc=size=176x144:rate=30000/1001:duration=2.37', []],
    ['short.mp4', 'testsrc=size=160x90:rate=12:duration=0.5', []],
    ['odd-size.mov', 'testsrc=size=202x114:rate=15:duration=4.2', ['-f', 'mov']],
    // 18,000 samples: a moov of about 70 KiB (more than one read), after 570 KiB of media data.
    ['long.mp4', 'testsrc=size=32x32:rate=60:duration=300', []],
  ];
  for (const [name, source, extra] of variants) {
    it(`reads what ffmpeg reads: ${name} (${source})`, async () => {
      const path = await encode(name, source, extra);
      const read = await probeMp4(path);
      expect(read).toBeDefined();
      expect(read).toEqual(await ffmpegProbe(path));
    });
  }

  it('reads the video track when an audio track comes first', async () => {
    const path = join(folder, 'audio-first.mp4');
    // biome-ignore format: one option per line
    await runFfmpeg([
      '-loglevel', 'error',
      '-f', 'lavfi', '-i', 'sine=frequency=440:duration=3',
      '-f', 'lavfi', '-i', 'testsrc=size=128x72:rate=25:duration=3',
      '-map', '0:a', '-map', '1:v', '-c:a', 'aac', '-c:v', 'libx264', '-preset', 'ultrafast',
      '-pix_fmt', 'yuv420p', '-y', path,
    ]);
    const read = await probeMp4(path);
    expect(read).toMatchObject({ width: 128, height: 72 });
    expect(read).toEqual(await ffmpegProbe(path));
  });

  it('leaves to ffmpeg what it cannot read: other containers, fragments without a duration, text, cut files, missing files', async () => {
    const webm = join(folder, 'clip.webm');
    await runFfmpeg([
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=64x64:rate=10:duration=1',
      '-y',
      webm,
    ]);
    const fragmented = await encode('fragmented.mp4', 'testsrc=size=64x64:rate=10:duration=2', [
      '-movflags',
      '+frag_keyframe+empty_moov',
    ]);
    const text = join(folder, 'text.mp4');
    await writeFile(text, 'not a video at all');
    const whole = await encode('whole.mp4', 'testsrc=size=64x64:rate=10:duration=2');
    const cut = join(folder, 'cut.mp4');
    await writeFile(cut, (await readFile(whole)).subarray(0, 200));
    for (const path of [webm, fragmented, text, cut, join(folder, 'missing.mp4')]) {
      expect(await probeMp4(path)).toBeUndefined();
    }
  });

  it('stops when its signal is aborted', async () => {
    const path = await encode('aborted.mp4', 'testsrc=size=64x64:rate=10:duration=1');
    await expect(probeMp4(path, AbortSignal.abort(new Error('stop')))).rejects.toThrow('stop');
  });
});

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffmpegPath, runFfmpeg } from './ffmpeg.ts';
import { createFfmpegMediaTools, parseProbe, pngSize } from './ffmpeg-media-tools.ts';

let folder: string;
let clip: string;
const media = createFfmpegMediaTools();

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'vidgenie-media-test-'));
  clip = join(folder, 'testsrc.mp4');
  // biome-ignore format: one option per line
  await runFfmpeg([
    '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25:duration=3',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-y', clip,
  ]);
});
afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe('createFfmpegMediaTools', () => {
  it('probes duration and size from the file', async () => {
    const probe = await media.probeVideo({ path: clip });
    expect(probe).toEqual({ durationSeconds: 3, width: 320, height: 240 });
  });

  it('rejects a missing file and a file that is not a video', async () => {
    await expect(media.probeVideo({ path: join(folder, 'missing.mp4') })).rejects.toThrow(/No such file/);
    const text = join(folder, 'text.mp4');
    await writeFile(text, 'not a video');
    await expect(media.probeVideo({ path: text })).rejects.toThrow(/ffmpeg exited|no readable video/);
  });

  it('makes a PNG poster frame of the video size', async () => {
    const poster = await media.posterFrame({ path: clip });
    expect(poster.mimeType).toBe('image/png');
    expect([poster.width, poster.height]).toEqual([320, 240]);
    const decoded = PNG.sync.read(Buffer.from(poster.bytes));
    expect([decoded.width, decoded.height]).toEqual([320, 240]);
  });

  it('takes the poster at a given time, clamped to the end', async () => {
    const early = await media.posterFrame({ path: clip, atSeconds: 0 });
    const late = await media.posterFrame({ path: clip, atSeconds: 99 });
    expect(late.width).toBe(320);
    expect(Buffer.from(early.bytes).equals(Buffer.from(late.bytes))).toBe(false);
  });

  it("uses the caller's duration instead of probing again", async () => {
    const probed = await media.posterFrame({ path: clip });
    const same = await media.posterFrame({ path: clip, durationSeconds: 3 });
    expect(Buffer.from(same.bytes).equals(Buffer.from(probed.bytes))).toBe(true);
    // A duration of 0.5 s puts the default poster at 0.25 s: another frame, so no probe was made.
    const hinted = await media.posterFrame({ path: clip, durationSeconds: 0.5 });
    expect(Buffer.from(hinted.bytes).equals(Buffer.from(probed.bytes))).toBe(false);
  });

  it('inspects a video in one ffmpeg process: the probe and the default poster frame', async () => {
    const calls = join(folder, 'calls.log');
    const wrapper = join(folder, 'ffmpeg-counting.sh');
    // A real ffmpeg behind a script that counts its starts.
    await writeFile(wrapper, `#!/bin/sh\necho started >> '${calls}'\nexec '${ffmpegPath()}' "$@"\n`, {
      mode: 0o755,
    });
    const expected = await media.posterFrame({ path: clip });
    const short = join(folder, 'short.mp4');
    // biome-ignore format: one option per line
    await runFfmpeg([
      '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25:duration=1.2',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-y', short,
    ]);
    const shortExpected = await media.posterFrame({ path: short });
    const before = process.env.VIDGENIE_FFMPEG;
    process.env.VIDGENIE_FFMPEG = wrapper;
    try {
      const inspected = await media.inspectVideo?.({ path: clip });
      expect(inspected).toMatchObject({ durationSeconds: 3, width: 320, height: 240 });
      expect(Buffer.from(inspected?.poster.bytes ?? []).equals(Buffer.from(expected.bytes))).toBe(true);
      expect((await readFile(calls, 'utf8')).split('\n').filter(Boolean)).toHaveLength(1);
      // Under 2 s the default frame is the middle one: a second process reads it.
      const inspectedShort = await media.inspectVideo?.({ path: short });
      expect(inspectedShort).toMatchObject({ durationSeconds: 1.2, width: 160, height: 120 });
      expect(Buffer.from(inspectedShort?.poster.bytes ?? []).equals(Buffer.from(shortExpected.bytes))).toBe(
        true,
      );
      expect((await readFile(calls, 'utf8')).split('\n').filter(Boolean)).toHaveLength(3);
    } finally {
      if (before === undefined) delete process.env.VIDGENIE_FFMPEG;
      else process.env.VIDGENIE_FFMPEG = before;
    }
  });

  it('refuses to inspect a missing file or one that is not a video, saying why', async () => {
    await expect(media.inspectVideo?.({ path: join(folder, 'missing.mp4') })).rejects.toThrow(/No such file/);
    const text = join(folder, 'not-a-video.mp4');
    await writeFile(text, 'not a video');
    await expect(media.inspectVideo?.({ path: text })).rejects.toThrow(/ffmpeg exited|no readable video/);
  });

  it('honours an aborted signal', async () => {
    await expect(
      media.probeVideo({ path: clip, signal: AbortSignal.abort(new Error('no')) }),
    ).rejects.toThrow('no');
  });
});

describe('parseProbe and pngSize', () => {
  it('reads hours, fractions and the video stream, not the codec tag', () => {
    const stderr = [
      "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'x.mp4':",
      '  Duration: 01:02:03.45, start: 0.000000, bitrate: 1132 kb/s',
      '    Stream #0:0(und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, stereo, fltp',
      '    Stream #0:1(und): Video: h264 (High) (avc1 / 0x31637661), yuv420p, 720x1280 [SAR 1:1 DAR 9:16], 30 fps',
    ].join('\n');
    expect(parseProbe(stderr, 'x.mp4')).toEqual({ durationSeconds: 3723.45, width: 720, height: 1280 });
    expect(() => parseProbe('Duration: N/A', 'x.mp4')).toThrow(/no readable video/);
  });

  it('reads a PNG header and refuses other bytes', () => {
    const png = new PNG({ width: 3, height: 2 });
    expect(pngSize(PNG.sync.write(png))).toEqual({ width: 3, height: 2 });
    expect(pngSize(new Uint8Array(30))).toBeUndefined();
  });
});

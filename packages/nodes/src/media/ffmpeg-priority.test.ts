import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runFfmpeg } from './ffmpeg.ts';
import { ffmpegNiceness, ffmpegPriority, resetFfmpegNiceness, setFfmpegNiceness } from './ffmpeg-priority.ts';

let folder: string;
/** Stands in for ffmpeg: prints its own niceness once it is EXPECTED_NICE (or after 10 s). */
let reporter: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'vidgenie-ffmpeg-nice-'));
  reporter = join(folder, 'ffmpeg');
  // Field 19 of /proc/<pid>/stat is the niceness; the shell is the process runFfmpeg started.
  await writeFile(
    reporter,
    [
      '#!/bin/sh',
      'i=0',
      'while :; do',
      '  nice=$(cut -d" " -f19 /proc/$$/stat)',
      '  if [ "$nice" = "$EXPECTED_NICE" ] || [ $i -ge 200 ]; then break; fi',
      '  i=$((i + 1)); sleep 0.05',
      'done',
      'echo "$nice"',
      '',
    ].join('\n'),
  );
  await chmod(reporter, 0o755);
});
afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});
afterEach(() => {
  vi.unstubAllEnvs();
  resetFfmpegNiceness();
});

/** The niceness the stand-in ffmpeg ran at, waiting (10 s at most) for it to become `expected`. */
async function nicenessOfFfmpeg(expected: number): Promise<number> {
  vi.stubEnv('VIDGENIE_FFMPEG', reporter);
  vi.stubEnv('EXPECTED_NICE', String(expected));
  const { stdout } = await runFfmpeg([]);
  return Number(stdout.toString().trim());
}

describe('ffmpegNiceness', () => {
  it('is 10 by default and reads VIDGENIE_FFMPEG_NICE', () => {
    vi.stubEnv('VIDGENIE_FFMPEG_NICE', '');
    expect(ffmpegNiceness()).toBe(10);
    vi.stubEnv('VIDGENIE_FFMPEG_NICE', ' 4 ');
    expect(ffmpegNiceness()).toBe(4);
    vi.stubEnv('VIDGENIE_FFMPEG_NICE', '0');
    expect(ffmpegNiceness()).toBe(0);
  });

  it('rejects a value that is not a whole number from 0 to 19, naming the variable', async () => {
    for (const value of ['-1', '20', '2.5', 'low']) {
      vi.stubEnv('VIDGENIE_FFMPEG_NICE', value);
      expect(() => ffmpegNiceness(), value).toThrow(
        `VIDGENIE_FFMPEG_NICE must be a whole number from 0 to 19 (got "${value}")`,
      );
    }
    vi.stubEnv('VIDGENIE_FFMPEG', reporter);
    await expect(runFfmpeg([])).rejects.toThrow(/VIDGENIE_FFMPEG_NICE must be/);
    expect(() => setFfmpegNiceness(20)).toThrow(/from 0 to 19 \(got 20\)/);
  });
});

describe.runIf(process.platform === 'linux')(
  'ffmpeg processes (Linux: their niceness read from /proc)',
  () => {
    const base = getPriority();

    it('run 10 below this process by default', async () => {
      vi.stubEnv('VIDGENIE_FFMPEG_NICE', '');
      expect(await nicenessOfFfmpeg(Math.min(19, base + 10))).toBe(Math.min(19, base + 10));
    });

    it('run at the niceness set by setFfmpegNiceness, over the variable', async () => {
      vi.stubEnv('VIDGENIE_FFMPEG_NICE', '12');
      setFfmpegNiceness(3);
      expect(await nicenessOfFfmpeg(Math.min(19, base + 3))).toBe(Math.min(19, base + 3));
    });

    it("run at this process's priority with 0", async () => {
      vi.stubEnv('VIDGENIE_FFMPEG_NICE', '0');
      expect(await nicenessOfFfmpeg(base)).toBe(base);
    });
  },
);

describe('ffmpegPriority', () => {
  it("is this process's priority plus the niceness, at most 19, and undefined for 0", () => {
    setFfmpegNiceness(10);
    expect(ffmpegPriority()).toBe(Math.min(19, getPriority() + 10));
    setFfmpegNiceness(19);
    expect(ffmpegPriority()).toBe(19);
    setFfmpegNiceness(0);
    expect(ffmpegPriority()).toBeUndefined();
  });
});

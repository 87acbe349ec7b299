import { afterEach, describe, expect, it, vi } from 'vitest';
import { ffmpegPath, runFfmpeg, stderrTail } from './ffmpeg.ts';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('ffmpegPath', () => {
  it('uses the binary shipped in @ffmpeg-installer/ffmpeg by default', () => {
    vi.stubEnv('VIDGENIE_FFMPEG', '');
    expect(ffmpegPath()).toMatch(/@ffmpeg-installer[/\\][a-z0-9-]+[/\\]ffmpeg(\.exe)?$/);
  });

  it('prefers VIDGENIE_FFMPEG', () => {
    vi.stubEnv('VIDGENIE_FFMPEG', '/opt/ffmpeg/bin/ffmpeg');
    expect(ffmpegPath()).toBe('/opt/ffmpeg/bin/ffmpeg');
  });
});

describe('runFfmpeg', () => {
  it('resolves with the output of a successful run', async () => {
    const { stdout, stderr } = await runFfmpeg(['-version']);
    expect(stdout.toString()).toMatch(/^ffmpeg version/);
    expect(typeof stderr).toBe('string');
  });

  it('rejects with the last lines of stderr on a non-zero exit', async () => {
    await expect(runFfmpeg(['-i', '/definitely/not/here.mp4', '-f', 'null', '-'])).rejects.toThrow(
      /ffmpeg exited with code 1:\n.*not\/here\.mp4: No such file or directory/,
    );
  });

  it('rejects clearly when the binary cannot start', async () => {
    vi.stubEnv('VIDGENIE_FFMPEG', '/definitely/not/ffmpeg');
    await expect(runFfmpeg(['-version'])).rejects.toThrow(
      /Could not start ffmpeg at "\/definitely\/not\/ffmpeg"/,
    );
  });

  it('kills ffmpeg when aborted and rejects with the reason', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const run = runFfmpeg(['-re', '-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=10', '-f', 'null', '-'], {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error('stop')), 200);
    await expect(run).rejects.toThrow('stop');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('does not start when the signal is already aborted', async () => {
    await expect(
      runFfmpeg(['-version'], { signal: AbortSignal.abort(new Error('too late')) }),
    ).rejects.toThrow('too late');
  });
});

describe('stderrTail', () => {
  it('keeps the last non-empty lines', () => {
    expect(stderrTail('a\n\nb\r\nc\rd\n', 2)).toBe('c\nd');
    expect(stderrTail('')).toBe('(no output)');
  });
});

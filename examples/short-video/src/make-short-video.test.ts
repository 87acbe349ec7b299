import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFfmpegMediaTools } from '@vidgenie/nodes';
import { afterAll, describe, expect, it } from 'vitest';
import { makeShortVideo } from './make-short-video.ts';

describe('makeShortVideo (offline, the README main job)', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('writes an 8 s 720x1280 MP4, its image, thumbnail and prompts', async () => {
    const out = await mkdtemp(join(tmpdir(), 'vidgenie-cli-'));
    dirs.push(out);
    const lines: string[] = [];
    const summary = await makeShortVideo(
      {
        prompt: 'a red fox in the snow at dawn',
        durationSeconds: 8,
        imageSize: 'small',
        motion: 'medium',
        out,
        local: true,
      },
      { write: (line) => lines.push(line) },
    );
    expect(summary.outcome.status).toBe('completed');
    expect(summary.files).toBeDefined();
    const probe = await createFfmpegMediaTools().probeVideo({ path: summary.files!.video });
    expect(probe.width).toBe(720);
    expect(probe.height).toBe(1280);
    expect(Math.abs(probe.durationSeconds - 8)).toBeLessThanOrEqual(0.1);
    expect((await stat(summary.files!.thumbnail)).size).toBeGreaterThan(0);
    expect((await readFile(summary.files!.image)).subarray(1, 4).toString()).toBe('PNG');
    const prompts = await readFile(summary.files!.prompt, 'utf8');
    expect(prompts).toContain('a red fox in the snow at dawn');
    expect(summary.enhancedPrompt!.length).toBeGreaterThan('a red fox in the snow at dawn'.length);
    for (const node of ['prompt', 'enhance', 'image', 'video', 'output']) {
      expect(lines.some((line) => line.startsWith(`✓ ${node}`))).toBe(true);
    }
  });

  it('cancels cleanly when the signal aborts', async () => {
    const out = await mkdtemp(join(tmpdir(), 'vidgenie-cli-'));
    dirs.push(out);
    const controller = new AbortController();
    const summary = await makeShortVideo(
      {
        prompt: 'a lighthouse at night',
        durationSeconds: 60,
        imageSize: 'small',
        motion: 'high',
        out,
        local: true,
      },
      {
        signal: controller.signal,
        write: (line) => {
          if (line.startsWith('  video') && line.includes('started')) controller.abort('test cancel');
        },
      },
    );
    expect(summary.outcome.status).toBe('cancelled');
    expect(summary.files).toBeUndefined();
  });
});

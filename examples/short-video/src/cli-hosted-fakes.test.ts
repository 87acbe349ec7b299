import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFfmpegMediaTools } from '@vidgenie/nodes';
import {
  type GeminiFake,
  type OpenAiFake,
  type RunwayFake,
  type StabilityFake,
  startGeminiFake,
  startOpenAiFake,
  startRunwayFake,
  startStabilityFake,
} from '@vidgenie/nodes/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_URL_VARIABLES, KEY_VARIABLES } from './choose-providers.ts';

/** Fake keys shaped like real ones; `CANARY` must never reach the terminal. */
const KEYS = {
  openai: 'sk-proj-CANARY-openai-0123456789abcdef',
  stability: 'sk-CANARY-stability-0123456789abcdef',
  gemini: 'AIzaSyCANARY-gemini-0123456789abcdef',
  runway: 'key_CANARY_runway_0123456789abcdef',
} as const;
const IDEA = 'a red fox in the snow at dawn';
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

let openai: OpenAiFake;
let stability: StabilityFake;
let gemini: GeminiFake;
let runway: RunwayFake;
const dirs: string[] = [];

beforeAll(async () => {
  [openai, stability, gemini, runway] = await Promise.all([
    startOpenAiFake({ validKeys: [KEYS.openai] }),
    startStabilityFake({ apiKey: KEYS.stability }),
    // Done at the first poll: the run waits only for the providers' first poll interval.
    startGeminiFake({ apiKey: KEYS.gemini, pendingPolls: 0 }),
    startRunwayFake({ apiKey: KEYS.runway, pendingPolls: 0, runningPolls: 0 }),
  ]);
});
afterAll(async () => {
  await Promise.all([openai.close(), stability.close(), gemini.close(), runway.close()]);
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/**
 * Runs the CLI as `pnpm start` does (tsx on src/main.ts, here on the packages' sources) in a child
 * process whose environment holds no provider variables but `env`.
 */
function runCli(args: readonly string[], env: Readonly<Record<string, string>>) {
  const inherited = { ...process.env };
  for (const name of [...Object.values(KEY_VARIABLES), ...Object.values(BASE_URL_VARIABLES)]) {
    delete inherited[name];
  }
  const child = spawn(
    process.execPath,
    ['--conditions=@vidgenie/source', '--import', 'tsx', 'src/main.ts', ...args],
    { cwd: PACKAGE_DIR, env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A PNG's width and height, from its IHDR chunk. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/**
 * Makes a video with the CLI in a new folder and checks what every such run must show: a clean
 * exit, the providers it picked, the prompts, a PNG of the given size, the MP4 and the thumbnail,
 * and no key in its output. Returns its stdout and the enhanced prompt it saved.
 */
async function makeVideo(
  env: Readonly<Record<string, string>>,
  expected: { readonly providers: string; readonly image: { width: number; height: number } },
): Promise<{ stdout: string; enhanced: string }> {
  const out = await mkdtemp(join(tmpdir(), 'vidgenie-cli-fakes-'));
  dirs.push(out);
  const run = await runCli([IDEA, '--duration', '8', '--out', out], env);
  expect(`${run.stdout}${run.stderr}`).not.toContain('CANARY');
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(run.stdout).toContain(`Providers: ${expected.providers}`);

  const prompts = await readFile(join(out, 'prompt.txt'), 'utf8');
  expect(prompts.startsWith(`Idea: ${IDEA}\n\nEnhanced prompt:\n`)).toBe(true);
  const enhanced = prompts.split('Enhanced prompt:\n')[1]?.trim() ?? '';
  expect(enhanced.length).toBeGreaterThan(IDEA.length);
  expect(run.stdout).toContain(`Enhanced prompt: ${enhanced}`);
  expect(pngSize(await readFile(join(out, 'image.png')))).toEqual(expected.image);
  // The fakes' clips are a quarter of 720x1280.
  const video = await createFfmpegMediaTools().probeVideo({ path: join(out, 'video.mp4') });
  expect(video).toMatchObject({ width: 180, height: 320 });
  expect(Math.abs(video.durationSeconds - 8)).toBeLessThanOrEqual(0.1);
  expect((await stat(join(out, 'thumbnail.png'))).size).toBeGreaterThan(0);
  return { stdout: run.stdout, enhanced };
}

describe('the short-video CLI with hosted providers at *_BASE_URL (their fakes)', () => {
  it('OpenAI (enhance, image) and Runway: writes the prompts, the PNG and the MP4; no key in its output', async () => {
    const { stdout } = await makeVideo(
      {
        OPENAI_API_KEY: KEYS.openai,
        OPENAI_BASE_URL: openai.baseURL,
        RUNWAY_API_KEY: KEYS.runway,
        RUNWAY_BASE_URL: runway.url,
      },
      { providers: 'openai-text, openai-image, runway-video', image: { width: 1024, height: 1536 } },
    );
    expect(stdout).toContain(`openai at ${openai.baseURL}`);
    expect(openai.counts.get('chat.completions')).toBe(1);
    expect(openai.counts.get('images.generate')).toBe(1);
    expect(JSON.stringify(openai.requests[0]?.body)).toContain(IDEA);
    expect(runway.submits).toBe(1);
    expect(runway.counts.get('output')).toBe(1);
  });

  it('Stability and Veo (local enhance): the same files; no key in its output', async () => {
    await makeVideo(
      {
        STABILITY_API_KEY: KEYS.stability,
        STABILITY_BASE_URL: stability.url,
        GEMINI_API_KEY: KEYS.gemini,
        GEMINI_BASE_URL: gemini.url,
      },
      { providers: 'local-text, stability-image, veo-video', image: { width: 768, height: 1344 } },
    );
    expect(stability.counts.get('generate')).toBe(1);
    expect(gemini.submits).toBe(1);
    expect(gemini.counts.get('files.download')).toBe(1);
  });

  it('refuses a base URL that is not http(s), without echoing it', async () => {
    const submits = runway.submits;
    const run = await runCli([IDEA, '--out', join(tmpdir(), 'vidgenie-cli-never')], {
      RUNWAY_API_KEY: KEYS.runway,
      RUNWAY_BASE_URL: `ftp://user:${KEYS.runway}@example.com`,
    });
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe('RUNWAY_BASE_URL must be an http:// or https:// URL.');
    expect(`${run.stdout}${run.stderr}`).not.toContain('CANARY');
    expect(runway.submits).toBe(submits);
  });
});

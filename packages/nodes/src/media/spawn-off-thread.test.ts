import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { spawnOffThread } from './spawn-off-thread.ts';

interface Outcome {
  readonly stdout: Buffer;
  readonly stderr: string;
  readonly code?: number | null;
  readonly signal?: string | null;
  readonly error?: Error;
}

function run(binary: string, args: readonly string[], onStarted?: (kill: () => void) => void) {
  return new Promise<Outcome>((resolve) => {
    const chunks: Buffer[] = [];
    let stderr = '';
    const child = spawnOffThread(binary, args, {
      onStdout: (chunk) => chunks.push(chunk),
      onStderr: (text) => {
        stderr += text;
      },
      onError: (error) => resolve({ stdout: Buffer.concat(chunks), stderr, error }),
      onClose: (code, signal) => resolve({ stdout: Buffer.concat(chunks), stderr, code, signal }),
    });
    onStarted?.(() => child.kill());
  });
}

const node = process.execPath;

describe('spawnOffThread', () => {
  it('delivers every stdout byte in order, stderr as text, then the exit code', async () => {
    const script = `
      const bytes = Buffer.alloc(300000);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7) % 256;
      process.stdout.write(bytes, () => { process.stderr.write('done: é✓\\n'); process.exitCode = 3; });`;
    const outcome = await run(node, ['-e', script]);
    const expected = Buffer.alloc(300_000);
    for (let i = 0; i < expected.length; i++) expected[i] = (i * 7) % 256;
    expect(outcome.error).toBeUndefined();
    expect(outcome.stdout.equals(expected)).toBe(true);
    expect(outcome.stderr).toBe('done: é✓\n');
    expect(outcome.code).toBe(3);
  });

  it('runs several processes at once and keeps their outputs apart', async () => {
    const outcomes = await Promise.all(
      [1, 2, 3, 4].map((n) => run(node, ['-e', `process.stdout.write('out-${n}'.repeat(1000))`])),
    );
    outcomes.forEach((outcome, i) => {
      expect(outcome.stdout.toString()).toBe(`out-${i + 1}`.repeat(1000));
      expect(outcome.code).toBe(0);
    });
  });

  it('reports a binary that cannot be started as an error, not an exit', async () => {
    const outcome = await run('/definitely/not/a/binary', []);
    expect(outcome.error?.message).toMatch(/ENOENT/);
    expect((outcome.error as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it('kills the process on request', async () => {
    const outcome = await run(node, ['-e', 'setInterval(() => {}, 1000); console.log("ready")'], (kill) =>
      setTimeout(kill, 100),
    );
    expect(outcome.code).toBeNull();
    expect(outcome.signal).toBe('SIGKILL');
  });

  it('keeps its process alive while a process it started runs, and lets it exit when idle', async () => {
    // A process whose only pending work is a child started off-thread: it must wait for it.
    const module = fileURLToPath(new URL('./spawn-off-thread.ts', import.meta.url));
    const script = `
      import { spawnOffThread } from ${JSON.stringify(module)};
      const began = Date.now();
      spawnOffThread(process.execPath, ['-e', 'setTimeout(() => {}, 700)'], {
        onStdout() {}, onStderr() {}, onError(error) { console.log('error', error.message); },
        onClose(code) { console.log('closed', code, Date.now() - began >= 650); },
      });`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        timeout: 20_000,
      },
    );
    expect(stdout.trim()).toBe('closed 0 true');
  });
});

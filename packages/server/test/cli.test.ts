import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const cli = join(import.meta.dirname, '../src/cli/main.ts');
const nodeArgs = ['--conditions=@vidgenie/source', '--import', 'tsx', cli];

function run(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function waitForLine(child: ChildProcess, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    child.stdout?.on('data', (chunk) => {
      seen += chunk;
      const match = pattern.exec(seen);
      if (match) resolve(match);
    });
    child.on('close', (code) => reject(new Error(`exited ${code} before printing ${pattern}: ${seen}`)));
  });
}

describe('vidgenie CLI', () => {
  it('migrates an embedded database, then reports it up to date', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vidgenie-cli-'));
    const first = await run(['migrate'], { VIDGENIE_DATA_DIR: dataDir });
    expect(first.stderr).toBe('');
    expect(first.stdout).toContain('Applied: 0001-accounts-vault-ledger');
    const second = await run(['migrate'], { VIDGENIE_DATA_DIR: dataDir });
    expect(second.stdout).toContain('The schema is up to date.');
    // Embedded mode: rotation adds a key version to the key file, then re-encrypts every row.
    const rotated = await run(['keys', 'rotate'], { VIDGENIE_DATA_DIR: dataDir });
    expect(rotated.stderr).toBe('');
    expect(rotated.stdout).toMatch(/Added key version "[a-z0-9-]+" to .*vault-keys\.json/);
    expect(rotated.stdout).toContain('Re-encrypted 0 stored keys');
  });

  it('names every bad setting and exits 2, without echoing values', async () => {
    const result = await run(['serve'], {
      PORT: 'eighty',
      DATABASE_URL: 'mysql://secret-password@db',
      VIDGENIE_DATA_DIR: tmpdir(),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('PORT: must be a number');
    expect(result.stderr).toContain('DATABASE_URL: must be a postgres:// or postgresql:// URL');
    expect(result.stderr).not.toContain('secret-password');
  });

  it('serves the API on loopback and stops on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vidgenie-cli-'));
    const child = spawn(process.execPath, [...nodeArgs, 'serve', '--port', '0'], {
      env: { ...process.env, VIDGENIE_DATA_DIR: dataDir, LOG_LEVEL: 'silent' },
    });
    try {
      const [, url] = await waitForLine(child, /VidGenie API on (http:\/\/127\.0\.0\.1:\d+)/);
      const health = await fetch(`${url}/api/health`);
      expect(await health.json()).toEqual({ status: 'ok' });
    } finally {
      const closed = new Promise((resolve) => child.on('close', resolve));
      child.kill('SIGTERM');
      expect(await closed).toBe(0);
    }
  });

  it('refuses to start a worker without DATABASE_URL, saying why', async () => {
    const result = await run(['worker'], { VIDGENIE_DATA_DIR: mkdtempSync(join(tmpdir(), 'vidgenie-cli-')) });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('vidgenie worker needs DATABASE_URL');
  });

  it('prints its commands', async () => {
    const result = await run(['--help'], {});
    expect(result.stdout).toMatch(/worker/);
    expect(result.stdout).toMatch(/serve/);
    expect(result.stdout).toMatch(/migrate/);
    expect(result.stdout).toMatch(/keys/);
  });

  it('prints each command’s options and the settings it reads, and exits 0', async () => {
    const serve = await run(['serve', '--help'], { NO_COLOR: '1' });
    expect(serve.code).toBe(0);
    expect(serve.stdout).toContain('USAGE vidgenie serve [OPTIONS]');
    expect(serve.stdout).toContain('--port=<port>');
    expect(serve.stdout).toMatch(/^ {2}HOST +interface to bind/m);
    const rotate = await run(['keys', 'rotate', '--help'], { NO_COLOR: '1' });
    expect(rotate.code).toBe(0);
    expect(rotate.stdout).toContain('USAGE vidgenie keys rotate [OPTIONS]');
    expect(rotate.stdout).toMatch(/^ {2}VIDGENIE_ENCRYPTION_KEYS +/m);
  });
});

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterAll, describe, expect, it } from 'vitest';
import type { AppEnv } from './app-env.ts';
import { findUiDir, serveUi } from './serve-ui.ts';

const dir = mkdtempSync(join(tmpdir(), 'vidgenie-ui-dist-'));
mkdirSync(join(dir, 'assets'));
writeFileSync(join(dir, 'index.html'), '<!doctype html><div id="root"></div>');
writeFileSync(join(dir, 'assets', 'index-abc.js'), 'console.log(1)');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function app() {
  const hono = new Hono<AppEnv>();
  hono.get('/api/known', (c) => c.json({ ok: true }));
  hono.get('/healthz', (c) => c.json({ status: 'ok' }));
  serveUi(hono, dir);
  hono.notFound((c) => c.json({ error: { code: 'NOT_FOUND' } }, 404));
  return hono;
}

describe('serveUi', () => {
  it('serves files, and index.html for any other path outside /api', async () => {
    const asset = await app().request('/assets/index-abc.js');
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('javascript');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    for (const path of ['/', '/create', '/settings/keys', '/index.html']) {
      const page = await app().request(path);
      expect(page.status, path).toBe(200);
      expect(await page.text()).toContain('<div id="root">');
      expect(page.headers.get('cache-control')).toBe('no-cache');
    }
    expect((await app().request('/create', { method: 'HEAD' })).status).toBe(200);
    expect((await app().request('/assets/gone-123.js')).status).toBe(404);
  });

  it('leaves /api and earlier routes alone, and never reads outside its folder', async () => {
    expect(await (await app().request('/api/known')).json()).toEqual({ ok: true });
    const missing = await app().request('/api/unknown');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: 'NOT_FOUND' } });
    expect(await (await app().request('/healthz')).json()).toEqual({ status: 'ok' });
    expect((await app().request('/create', { method: 'POST' })).status).toBe(404);
    const outside = await app().request('/..%2f..%2fetc%2fpasswd');
    expect(await outside.text()).toContain('<div id="root">');
    expect((await app().request('/assets/..%2f..%2fetc%2fpasswd')).status).toBe(404);
  });
});

describe('findUiDir', () => {
  it('takes VIDGENIE_UI_DIR when it holds index.html and refuses one that does not', () => {
    expect(findUiDir(dir)).toBe(dir);
    expect(() => findUiDir(join(dir, 'assets'))).toThrow(/has no index.html/);
  });
});

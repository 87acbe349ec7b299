import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Hono } from 'hono';
import type { AppEnv } from './app-env.ts';

/**
 * Where the built creator app is: `VIDGENIE_UI_DIR` when set, else the `@vidgenie/ui` package's
 * `dist` (resolved as a package, then as this monorepo's sibling folder) when it holds an
 * `index.html`, else none. A configured folder without `index.html` is a mistake: it throws.
 * @internal
 */
export function findUiDir(configured: string | undefined): string | undefined {
  if (configured !== undefined) {
    const dir = resolve(configured);
    if (!existsSync(join(dir, 'index.html')))
      throw new Error(
        `VIDGENIE_UI_DIR is ${dir}, which has no index.html: build the app (pnpm build) or unset VIDGENIE_UI_DIR.`,
      );
    return dir;
  }
  const candidates: string[] = [];
  try {
    candidates.push(join(dirname(fileURLToPath(import.meta.resolve('@vidgenie/ui/package.json'))), 'dist'));
  } catch {
    // Not installed as a package: look beside this one.
  }
  // src/http or dist/http → packages/server → packages/ui/dist
  candidates.push(fileURLToPath(new URL('../../../ui/dist', import.meta.url)));
  return candidates.find((dir) => existsSync(join(dir, 'index.html')));
}

/**
 * Serves the built creator app for `GET`/`HEAD` requests outside `/api`: files as they are, any
 * other path gets `index.html` (the app routes in the browser). Mount it after every route, so
 * probes and `/metrics` keep answering. Vite emits no inline scripts or styles, so the app runs
 * under the API's CSP (`default-src 'self'`).
 * @internal
 */
export function serveUi(app: Hono<AppEnv>, uiDir: string): void {
  const indexHtml = readFileSync(join(uiDir, 'index.html'), 'utf8');
  const isApi = (path: string) => path === '/api' || path.startsWith('/api/');
  const files = serveStatic<AppEnv>({ root: uiDir });
  app.on(['GET', 'HEAD'], '*', async (c, next) => {
    if (isApi(c.req.path)) return next();
    // Hashed assets never change; anything else must be revalidated.
    c.header(
      'Cache-Control',
      c.req.path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    );
    return files(c, next);
  });
  app.on(['GET', 'HEAD'], '*', async (c, next) => {
    // A missing asset is a 404, not the page (a browser would try to run HTML as a script).
    if (isApi(c.req.path) || c.req.path.startsWith('/assets/')) return next();
    c.header('Cache-Control', 'no-cache');
    return c.html(indexHtml);
  });
}

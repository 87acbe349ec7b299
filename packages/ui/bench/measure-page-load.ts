import type { BrowserContext, Page } from 'playwright-core';

// `performance` is Node's global here, not imported from node:perf_hooks: the callbacks run in the
// page need the DOM's type of it.

/** The figures of one navigation, in milliseconds. */
export interface PageLoad {
  /** Node's clock: from calling `page.goto` until Playwright saw the page ready. */
  readonly wallMs: number;
  /** The page's clock (from its navigation start): when it became ready, by the probe; absent for the baseline. */
  readonly readyMs?: number;
  /** What the probe saw in the Run bar when ready (`Run enabled`, or the error it showed). */
  readonly readyState?: string;
  /** Navigation Timing: `responseStart`, `domContentLoadedEventEnd`, `loadEventEnd`. */
  readonly ttfbMs: number;
  readonly domContentLoadedMs: number;
  readonly loadMs: number;
}

/** What the probe writes on `window` when the canvas becomes interactive. */
const READY_KEY = '__vidgenieCanvasReadyAt';

/**
 * Installs, in every page of `context`, a probe that records on the page's own clock the first
 * moment `/create` is interactive: `nodes` React Flow nodes rendered and measured (not hidden)
 * and the Run bar settled by the server's first estimate (`data-settled`), that is the Run button
 * enabled or, when the graph cannot run yet, the cost shown with what to do. A fresh /create has an
 * empty prompt: the cost comes back for a stand-in prompt and Run waits for the user's idea; that
 * answer is the moment the page is ready for them. It is a
 * `MutationObserver` from the document's start, so nothing polls; `window[key + 'Promise']`
 * resolves with the same time and which of the two it saw.
 */
export async function installCanvasReadyProbe(context: BrowserContext, nodes: number): Promise<void> {
  // Plain JavaScript source: tsx (esbuild, keepNames) would wrap a serialised TypeScript function's
  // inner functions in a `__name` helper the page does not have.
  const probe = `(() => {
    if (location.pathname !== '/create') return;
    const key = ${JSON.stringify(READY_KEY)};
    const expected = ${JSON.stringify(nodes)};
    let resolve;
    window[key + 'Promise'] = new Promise((done) => { resolve = done; });
    const ready = () => {
      const rendered = document.querySelectorAll('.react-flow__node');
      if (rendered.length !== expected) return false;
      for (const node of rendered) if (node.style.visibility === 'hidden') return false;
      const run = document.querySelector('.run-bar button.button--primary');
      if (run === null) return false;
      if (!run.disabled) return 'Run enabled';
      if (document.querySelector('.run-bar[data-settled="true"]') === null) return false;
      const said = document.querySelector('.run-bar .run-bar__error, .run-bar .run-bar__hint');
      return 'Run bar shows: ' + run.textContent + (said === null ? '' : ' / ' + said.textContent);
    };
    const observer = new MutationObserver(() => {
      if (window[key] !== undefined) return;
      const state = ready();
      if (state === false) return;
      const at = performance.now();
      window[key] = at;
      observer.disconnect();
      resolve({ at, state });
    });
    observer.observe(document, {
      childList: true,
      subtree: true,
      attributes: true,
      attributeFilter: ['disabled', 'style', 'class'],
    });
  })();`;
  await context.addInitScript({ content: probe });
}

/** The page's Navigation Timing, once its `load` event has run. */
async function navigationTiming(
  page: Page,
): Promise<Pick<PageLoad, 'ttfbMs' | 'domContentLoadedMs' | 'loadMs'>> {
  await page.waitForLoadState('load');
  return page.evaluate(() => {
    const [entry] = performance.getEntriesByType('navigation') as PerformanceNavigationTiming[];
    if (entry === undefined) throw new Error('no Navigation Timing entry');
    return {
      ttfbMs: entry.responseStart,
      domContentLoadedMs: entry.domContentLoadedEventEnd,
      loadMs: entry.loadEventEnd,
    };
  });
}

/**
 * Navigates `page` to `url` (the app's `/create`, on a context with the probe installed) and
 * waits until the canvas is interactive; `timeoutMs` bounds the wait.
 */
export async function measureCanvasLoad(page: Page, url: string, timeoutMs: number): Promise<PageLoad> {
  const t0 = performance.now();
  await page.goto(url, { waitUntil: 'commit', timeout: timeoutMs });
  // The probe's promise settles when the canvas is ready; the race bounds the wait.
  const ready = await page.evaluate(
    ({ key, wait }) =>
      Promise.race([
        (window as unknown as Record<string, Promise<{ at: number; state: string }> | undefined>)[
          `${key}Promise`
        ] ?? Promise.reject(new Error('the canvas probe is not installed in this document')),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error(`the canvas was not interactive within ${wait} ms`)), wait),
        ),
      ]),
    { key: READY_KEY, wait: timeoutMs },
  );
  const wallMs = performance.now() - t0;
  return { wallMs, readyMs: ready.at, readyState: ready.state, ...(await navigationTiming(page)) };
}

/** Navigates `page` to a minimal page (`url`, e.g. `/healthz`) and waits for its `load` event. */
export async function measureBaselineLoad(page: Page, url: string, timeoutMs: number): Promise<PageLoad> {
  const t0 = performance.now();
  await page.goto(url, { waitUntil: 'load', timeout: timeoutMs });
  const wallMs = performance.now() - t0;
  return { wallMs, ...(await navigationTiming(page)) };
}

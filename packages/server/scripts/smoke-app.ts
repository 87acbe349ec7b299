/**
 * Checks a running VidGenie app the way a newcomer uses it, over HTTP only: the creator app is
 * served, a new account signs up, the short-video template runs with the local providers while its
 * live events stream in, and the finished video downloads as a real MP4. CI runs it against the
 * README's main command (`pnpm start`).
 *
 * Usage: `tsx scripts/smoke-app.ts [base URL]` (default http://127.0.0.1:3000). Waits up to
 * `SMOKE_WAIT_SECONDS` (default 180) for the server to be ready; with `SMOKE_PID`, stops waiting as soon
 * as that process (the app being started) has exited. Exits 1 with the step that failed.
 */
import { randomBytes } from 'node:crypto';
import { shortVideoTemplate } from '@vidgenie/nodes';

const base = (process.argv[2] ?? 'http://127.0.0.1:3000').replace(/\/$/, '');
const waitSeconds = Number(process.env.SMOKE_WAIT_SECONDS ?? 180);
const appPid = process.env.SMOKE_PID === undefined ? undefined : Number(process.env.SMOKE_PID);
const started = performance.now();

function fail(step: string, detail: string): never {
  console.error(`smoke: ${step} failed: ${detail}`);
  process.exit(1);
}

function log(line: string): void {
  console.log(`smoke [${((performance.now() - started) / 1000).toFixed(1)} s] ${line}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntilReady(): Promise<void> {
  const deadline = Date.now() + waitSeconds * 1000;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (appPid !== undefined && !isAlive(appPid))
      fail('waiting for the server', `the app (pid ${appPid}) exited`);
    try {
      const response = await fetch(`${base}/readyz`);
      if (response.ok) return;
      last = `GET /readyz answered ${response.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  fail('waiting for the server', `${base} not ready after ${waitSeconds} s (${last})`);
}

let cookie = '';

/** A request from the app's own origin, carrying the session cookie like the browser would. */
async function api(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${base}${path}`, {
    method,
    headers: {
      origin: base,
      ...(cookie === '' ? {} : { cookie }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function expectJson<T>(step: string, response: Response, status: number): Promise<T> {
  if (response.status !== status) fail(step, `HTTP ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

/** Follows the run's SSE stream until its terminal event; returns the terminal event's name. */
async function followRun(runId: string): Promise<string> {
  const response = await api('GET', `/api/workflow/runs/${runId}/events`);
  if (!response.ok || response.body === null) fail('following the run', `HTTP ${response.status}`);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) fail('following the run', 'the event stream ended before the run did');
    buffer += decoder.decode(value, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: ?(.*)$/m.exec(block)?.[1];
      if (event === undefined) continue;
      const data = /^data: ?(.*)$/m.exec(block)?.[1] ?? '{}';
      const nodeId = (JSON.parse(data) as { nodeId?: string }).nodeId;
      if (!event.endsWith('.progress')) log(`${event}${nodeId === undefined ? '' : ` ${nodeId}`}`);
      if (event === 'run.completed' || event === 'run.failed' || event === 'run.cancelled') {
        await reader.cancel();
        return event;
      }
    }
  }
}

await waitUntilReady();
log(`${base} is ready`);

const page = await fetch(`${base}/create`);
const html = await page.text();
if (!page.ok || !html.includes('<div id="root">'))
  fail('loading the app', `GET /create answered ${page.status}`);
const script = /<script[^>]+src="([^"]+)"/.exec(html)?.[1];
if (script === undefined) fail('loading the app', 'the page loads no script');
const bundle = await fetch(new URL(script, base));
if (!bundle.ok) fail('loading the app', `GET ${script} answered ${bundle.status}`);
log(`the creator app is served (${script}, ${(await bundle.arrayBuffer()).byteLength} bytes)`);

const signup = await api('POST', '/api/auth/signup', {
  email: `smoke-${randomBytes(6).toString('hex')}@example.com`,
  password: randomBytes(12).toString('base64url'),
});
await expectJson('signing up', signup, 201);
cookie = (signup.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
const before = await expectJson<{ available: number }>(
  'reading the balance',
  await api('GET', '/api/credits/balance'),
  200,
);
log(`signed up with ${before.available} credits`);

const accepted = await expectJson<{ runId: string; estimatedCost: number }>(
  'starting a run',
  await api('POST', '/api/workflow/execute', {
    graph: shortVideoTemplate({ durationSeconds: 8 }),
    initialPrompt: 'a red fox in the snow at dawn',
  }),
  202,
);
log(`run ${accepted.runId} accepted (estimated ${accepted.estimatedCost} credits)`);
const ending = await followRun(accepted.runId);
if (ending !== 'run.completed') fail('running the template', `the run ended with ${ending}`);

/** The run's content record (written as the run completes; waits a little for it). */
async function contentOf(runId: string): Promise<{ media: { video: { url: string } } }> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const { contents } = await expectJson<{
      contents: { runId: string; media: { video: { url: string } } }[];
    }>('listing the library', await api('GET', '/api/contents'), 200);
    const content = contents.find((item) => item.runId === runId);
    if (content !== undefined) return content;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  fail('listing the library', 'no content for the finished run');
}
const content = await contentOf(accepted.runId);
const video = await api('GET', content.media.video.url);
const bytes = new Uint8Array(await video.arrayBuffer());
const brand = new TextDecoder().decode(bytes.subarray(4, 8));
if (!video.ok || brand !== 'ftyp' || bytes.byteLength < 10_000) {
  fail('downloading the video', `HTTP ${video.status}, ${bytes.byteLength} bytes, box "${brand}"`);
}
const after = await expectJson<{ available: number }>(
  'reading the balance',
  await api('GET', '/api/credits/balance'),
  200,
);
log(
  `the video downloads as an MP4 (${bytes.byteLength} bytes); ${before.available - after.available} credits spent`,
);
log('the app works');

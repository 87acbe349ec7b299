import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFfmpeg } from '../../media/ffmpeg.ts';
import {
  type FakeFault,
  type FakeHttpServer,
  type FakeLatency,
  type FakeRequest,
  type FakeRoute,
  startFakeHttpServer,
} from './fake-http-server.ts';

/** The size and rate of the clips fakes serve. */
export interface FakeClipOptions {
  /** Output size as a share of the size the request asked for. Default 0.25 (180x320 for 720:1280). */
  readonly scale?: number;
  /** Frames per second. Default 12. */
  readonly fps?: number;
  /** A fixed clip length in seconds, whatever was asked. Default: the requested duration. */
  readonly seconds?: number;
}

const clipCache = new Map<string, Promise<Uint8Array>>();

/**
 * A real H.264 MP4 of ffmpeg's `testsrc` pattern (with a sine tone when `audio`), rendered once
 * per size, length and rate and then kept in memory: what provider fakes serve as generated video.
 */
export function renderTestClip(args: {
  readonly width: number;
  readonly height: number;
  readonly seconds: number;
  readonly fps?: number;
  readonly audio?: boolean;
}): Promise<Uint8Array> {
  const even = (n: number) => Math.max(2, Math.round(n / 2) * 2);
  const width = even(args.width);
  const height = even(args.height);
  const fps = args.fps ?? 12;
  const audio = args.audio ?? false;
  const key = `${width}x${height}@${fps}/${args.seconds}s${audio ? '+a' : ''}`;
  let clip = clipCache.get(key);
  if (clip === undefined) {
    clip = (async () => {
      const folder = await mkdtemp(join(tmpdir(), 'vidgenie-fake-clip-'));
      try {
        const out = join(folder, 'clip.mp4');
        // biome-ignore format: one ffmpeg option per line
        await runFfmpeg([
          '-loglevel', 'error', '-y',
          '-f', 'lavfi', '-i', `testsrc=size=${width}x${height}:rate=${fps}:duration=${args.seconds}`,
          ...(audio ? ['-f', 'lavfi', '-i', `sine=frequency=440:duration=${args.seconds}`] : []),
          '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p',
          ...(audio ? ['-c:a', 'aac', '-b:a', '64k', '-shortest'] : []),
          '-movflags', '+faststart',
          out,
        ]);
        return new Uint8Array(await readFile(out));
      } finally {
        await rm(folder, { recursive: true, force: true });
      }
    })();
    clip.catch(() => clipCache.delete(key));
    clipCache.set(key, clip);
  }
  return clip;
}

/** How a task of the Runway fake ends. */
export type RunwayFakeOutcome =
  | { readonly kind: 'succeed' }
  /** FAILED with Runway's failure text and code, e.g. `SAFETY.INPUT.TEXT`. */
  | { readonly kind: 'fail'; readonly failureCode: string; readonly failure: string }
  /** CANCELLED (as if cancelled in Runway's dashboard). */
  | { readonly kind: 'cancel' };

/** Options of {@link startRunwayFake}. */
export interface RunwayFakeOptions {
  /** The key the fake accepts (`Authorization: Bearer <key>`). Default `key_test`. */
  readonly apiKey?: string;
  /** Polls of a new task that answer PENDING. Default 1. */
  readonly pendingPolls?: number;
  /** Polls after those that answer RUNNING with a growing `progress`. Default 2. */
  readonly runningPolls?: number;
  /** How tasks end unless {@link RunwayFake.queueOutcome} says otherwise. Default success. */
  readonly outcome?: RunwayFakeOutcome;
  /** The clips served as output. */
  readonly clip?: FakeClipOptions;
  /** The organization's credit balance. Default 12 345. */
  readonly creditBalance?: number;
  /**
   * How long a task runs, in ms from its creation, whatever the number of polls: PENDING for its
   * first tenth, then RUNNING with `progress` by elapsed time, then it ends. Default: tasks move
   * on by polls (`pendingPolls`, `runningPolls`). A function is called once per task, at its
   * creation (a spread of job times, as real services have).
   */
  readonly jobMs?: number | (() => number);
  /**
   * Response time in ms, for every route or per route name (`image_to_video`, `tasks.retrieve`,
   * `output`...).
   */
  readonly latencyMs?: FakeLatency;
}

/** What the fake knows of a task. */
export interface RunwayFakeTask {
  readonly id: string;
  readonly model: string;
  readonly ratio: string;
  readonly duration: number;
  readonly promptText: string | undefined;
  /** The first characters of `promptImage` (its data URI header, or the URL). */
  readonly promptImageHead: string;
  polls: number;
  /** Set by `DELETE /v1/tasks/{id}`: `cancelled` while it ran, `deleted` once it had finished. */
  removal: 'cancelled' | 'deleted' | undefined;
  readonly outcome: RunwayFakeOutcome;
}

/** A running Runway fake. */
export interface RunwayFake {
  /** The base URL, for `new RunwayML({ baseURL })` (no `/v1`). */
  readonly url: string;
  /**
   * Requests per route: `organization`, `image_to_video`, `tasks.retrieve`, `tasks.delete`,
   * `output` (and `unknown`).
   */
  readonly counts: Map<string, number>;
  /** Tasks created (accepted submits), in order. */
  readonly tasks: readonly RunwayFakeTask[];
  /** How many tasks were created: every accepted `POST /v1/image_to_video`. */
  readonly submits: number;
  /** The requests received, in order (with their Authorization header). */
  readonly log: FakeHttpServer['log'];
  /** Queues faults for the next requests to a route (see {@link runwayFaults}). */
  inject(route: string, ...faults: FakeFault[]): void;
  /** The next tasks created end like this, in order (then the default outcome applies). */
  queueOutcome(...outcomes: RunwayFakeOutcome[]): void;
  close(): Promise<void>;
}

/** The width:height `ratio` values Runway's image-to-video models accept. */
const RATIOS_BY_MODEL: Readonly<Record<string, readonly string[]>> = {
  gen4_turbo: ['1280:720', '720:1280', '1104:832', '832:1104', '960:960', '1584:672'],
  'gen4.5': ['1280:720', '720:1280', '1104:832', '832:1104', '960:960', '1584:672'],
  'veo3.1': ['1280:720', '720:1280', '1080:1920', '1920:1080'],
  'veo3.1_fast': ['1280:720', '720:1280', '1080:1920', '1920:1080'],
};
const MAX_DATA_URI_CHARS = 5 * 1024 * 1024;

/**
 * Starts a fake of Runway's API that `@runwayml/sdk` accepts (`new RunwayML({ apiKey, baseURL:
 * fake.url })`): `GET /v1/organization`, `POST /v1/image_to_video` (validated like Runway: model,
 * ratio, integer duration 2–10, data URI or HTTPS image under 5 MB, prompt ≤ 1 000 chars),
 * `GET /v1/tasks/{id}` (PENDING, then RUNNING with a growing `progress`, then SUCCEEDED with an
 * output URL served by the fake itself as a real MP4, or FAILED / CANCELLED as configured) and
 * `DELETE /v1/tasks/{id}` (cancels a running task, deletes a finished one). Every `/v1` request
 * needs the key and `X-Runway-Version`. Faults (429 with Retry-After, 5xx, hangs) are injected
 * per route with `inject`; {@link runwayFaults} builds Runway's error answers.
 *
 * @example
 * ```ts
 * import RunwayML from '@runwayml/sdk';
 * import { startRunwayFake } from '@vidgenie/nodes/testing';
 * const fake = await startRunwayFake();
 * const client = new RunwayML({ apiKey: 'key_test', baseURL: fake.url, maxRetries: 0 });
 * console.log((await client.organization.retrieve()).creditBalance); // 12345
 * await fake.close();
 * ```
 */
export async function startRunwayFake(options: RunwayFakeOptions = {}): Promise<RunwayFake> {
  const apiKey = options.apiKey ?? 'key_test';
  const pendingPolls = options.pendingPolls ?? 1;
  const runningPolls = options.runningPolls ?? 2;
  const defaultOutcome = options.outcome ?? { kind: 'succeed' };
  const scale = options.clip?.scale ?? 0.25;
  const tasks: RunwayFakeTask[] = [];
  const byId = new Map<string, RunwayFakeTask>();
  const queued: RunwayFakeOutcome[] = [];
  const createdAt = new Date().toISOString();
  /** When each task was created (`performance.now()`) and how long it runs, for `jobMs`. */
  const timings = new Map<RunwayFakeTask, { readonly start: number; readonly ms: number }>();
  let url = '';

  const refuse = (request: FakeRequest) => {
    if (request.headers.authorization !== `Bearer ${apiKey}`) {
      return {
        status: 401,
        body: { error: 'Invalid API key. Keys start with key_ and are sent as a Bearer token.' },
      };
    }
    if (request.headers['x-runway-version'] === undefined) {
      return { status: 400, body: { error: 'The X-Runway-Version header is required.' } };
    }
    return undefined;
  };
  const invalid = (path: string, message: string) => ({
    status: 400,
    body: { error: `Validation of body failed: ${path}: ${message}`, issues: [{ path: [path], message }] },
  });

  const routes: FakeRoute[] = [
    {
      method: 'GET',
      path: '/v1/organization',
      name: 'organization',
      handle: (request) =>
        refuse(request) ?? {
          body: {
            creditBalance: options.creditBalance ?? 12_345,
            tier: {
              maxMonthlyCreditSpend: 100_000,
              models: { gen4_turbo: { maxConcurrentGenerations: 2, maxDailyGenerations: 200 } },
            },
            usage: { models: { gen4_turbo: { dailyGenerations: tasks.length } } },
          },
        },
    },
    {
      method: 'POST',
      path: '/v1/image_to_video',
      name: 'image_to_video',
      handle: (request) => {
        const refused = refuse(request);
        if (refused !== undefined) return refused;
        const body = request.json();
        if (typeof body !== 'object' || body === null) return invalid('body', 'Expected a JSON object');
        const { model, promptImage, promptText, ratio, duration, seed } = body as Record<string, unknown>;
        const ratios = typeof model === 'string' ? RATIOS_BY_MODEL[model] : undefined;
        if (ratios === undefined) return invalid('model', `Invalid model ${JSON.stringify(model)}`);
        const image = Array.isArray(promptImage)
          ? (
              promptImage.find((p: { position?: unknown }) => p?.position === 'first') as
                | { uri?: unknown }
                | undefined
            )?.uri
          : promptImage;
        if (typeof image !== 'string') return invalid('promptImage', 'Required');
        if (image.startsWith('data:')) {
          if (!/^data:image\/(png|jpeg|jpg|webp);base64,[A-Za-z0-9+/]+=*$/.test(image)) {
            return invalid('promptImage', 'Invalid data URI.');
          }
          if (image.length >= MAX_DATA_URI_CHARS)
            return invalid('promptImage', 'Data URI must be under 5MB.');
        } else if (!image.startsWith('https://'))
          return invalid('promptImage', 'Only HTTPS URLs are allowed.');
        if (typeof ratio !== 'string' || !ratios.includes(ratio)) {
          return invalid('ratio', `Expected one of ${ratios.join(', ')}`);
        }
        const seconds = duration ?? 5;
        if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 2 || seconds > 10) {
          return invalid('duration', 'Must be an integer from 2 to 10');
        }
        if (
          promptText !== undefined &&
          (typeof promptText !== 'string' || promptText.length > 1000 || promptText === '')
        ) {
          return invalid('promptText', 'Must be a non-empty string of at most 1000 characters');
        }
        if (seed !== undefined && (typeof seed !== 'number' || !Number.isInteger(seed))) {
          return invalid('seed', 'Must be an integer');
        }
        const task: RunwayFakeTask = {
          id: randomUUID(),
          model: model as string,
          ratio,
          duration: seconds,
          promptText: promptText as string | undefined,
          promptImageHead: image.slice(0, 40),
          polls: 0,
          removal: undefined,
          outcome: queued.shift() ?? defaultOutcome,
        };
        tasks.push(task);
        byId.set(task.id, task);
        if (options.jobMs !== undefined) {
          const ms = typeof options.jobMs === 'function' ? options.jobMs() : options.jobMs;
          timings.set(task, { start: performance.now(), ms });
        }
        return { body: { id: task.id, estimatedCost: { credits: 5 * seconds } } };
      },
    },
    {
      method: 'GET',
      path: /^\/v1\/tasks\/(?<id>[^/]+)$/,
      name: 'tasks.retrieve',
      handle: (request) => {
        const refused = refuse(request);
        if (refused !== undefined) return refused;
        const task = byId.get(request.params.id ?? '');
        if (task === undefined || task.removal === 'deleted') {
          return { status: 404, body: { error: 'Task not found.' } };
        }
        return { body: taskView(task, ++task.polls) };
      },
    },
    {
      method: 'DELETE',
      path: /^\/v1\/tasks\/(?<id>[^/]+)$/,
      name: 'tasks.delete',
      handle: (request) => {
        const refused = refuse(request);
        if (refused !== undefined) return refused;
        const task = byId.get(request.params.id ?? '');
        if (task === undefined || task.removal === 'deleted') {
          return { status: 404, body: { error: 'Task not found.' } };
        }
        const status = taskView(task, task.polls).status;
        task.removal = status === 'PENDING' || status === 'RUNNING' ? 'cancelled' : 'deleted';
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: /^\/outputs\/(?<id>[^/]+)\.mp4$/,
      name: 'output',
      handle: async (request) => {
        const task = byId.get(request.params.id ?? '');
        if (task === undefined || request.query.get('_jwt') !== `signed-${task.id}`) {
          return {
            status: 403,
            headers: { 'content-type': 'application/xml' },
            body: '<Error>AccessDenied</Error>',
          };
        }
        const [w, h] = task.ratio.split(':').map(Number) as [number, number];
        const bytes = await renderTestClip({
          width: w * scale,
          height: h * scale,
          seconds: options.clip?.seconds ?? task.duration,
          fps: options.clip?.fps ?? 12,
        });
        return {
          headers: { 'content-type': 'video/mp4', 'content-length': String(bytes.length) },
          body: bytes,
        };
      },
    },
  ];
  const server = await startFakeHttpServer(routes, { latencyMs: options.latencyMs });
  url = server.url;

  /** How far a task is: pending, or running with its progress in [0, 1] (1: it has ended). */
  function progressOf(task: RunwayFakeTask, polls: number): 'pending' | number {
    const timing = timings.get(task);
    if (timing === undefined) {
      return polls <= pendingPolls ? 'pending' : Math.min(1, (polls - pendingPolls) / (runningPolls + 1));
    }
    const jobMs = timing.ms;
    const elapsed = performance.now() - timing.start;
    if (elapsed >= jobMs) return 1;
    return elapsed < jobMs / 10 ? 'pending' : elapsed / jobMs;
  }

  function taskView(task: RunwayFakeTask, polls: number): Record<string, unknown> {
    const base = { id: task.id, createdAt };
    const estimatedCost = { credits: 5 * task.duration };
    if (task.removal === 'cancelled') return { ...base, status: 'CANCELLED', cost: { credits: 0 } };
    const done = progressOf(task, polls);
    if (done === 'pending') return { ...base, status: 'PENDING', estimatedCost };
    if (done < 1) {
      const progress = Math.round(done * 1000) / 1000;
      return { ...base, status: 'RUNNING', progress, estimatedCost };
    }
    const cost = { credits: 5 * task.duration };
    switch (task.outcome.kind) {
      case 'succeed':
        return {
          ...base,
          status: 'SUCCEEDED',
          cost,
          output: [`${url}/outputs/${task.id}.mp4?_jwt=signed-${task.id}`],
        };
      case 'fail':
        return {
          ...base,
          status: 'FAILED',
          cost: { credits: 0 },
          failure: task.outcome.failure,
          failureCode: task.outcome.failureCode,
        };
      case 'cancel':
        return { ...base, status: 'CANCELLED', cost: { credits: 0 } };
    }
  }

  return {
    url,
    counts: server.counts,
    tasks,
    get submits() {
      return tasks.length;
    },
    log: server.log,
    inject: (route, ...faults) => server.inject(route, ...faults),
    queueOutcome: (...outcomes) => {
      queued.push(...outcomes);
    },
    close: () => server.close(),
  };
}

/** Runway's error answers, as faults for {@link RunwayFake.inject}. */
export const runwayFaults = Object.freeze({
  /** 429, with `Retry-After` in seconds when given. */
  rateLimited: (retryAfterSeconds?: number): FakeFault => ({
    kind: 'status',
    status: 429,
    body: { error: 'You have exceeded the rate limit. Please retry later.' },
    headers: retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) },
  }),
  invalidKey: (): FakeFault => ({ kind: 'status', status: 401, body: { error: 'Invalid API key.' } }),
  badRequest: (error = 'promptImage: Failed to fetch asset.'): FakeFault => ({
    kind: 'status',
    status: 400,
    body: { error },
  }),
  notEnoughCredits: (): FakeFault => ({
    kind: 'status',
    status: 400,
    body: { error: 'You do not have enough credits to run this task.' },
  }),
  unavailable: (status = 503): FakeFault => ({
    kind: 'status',
    status,
    body: { error: 'The service is temporarily overloaded.' },
  }),
});

import { randomBytes } from 'node:crypto';
import {
  type FakeFault,
  type FakeHttpServer,
  type FakeLatency,
  type FakeRequest,
  type FakeResponse,
  type FakeRoute,
  startFakeHttpServer,
} from './fake-http-server.ts';
import { type FakeClipOptions, renderTestClip } from './runway-fake.ts';

/** How an operation of the Gemini fake ends. */
export type GeminiFakeOutcome =
  /** `generatedSamples` with a file URI the fake serves (a real MP4 with audio). */
  | { readonly kind: 'succeed' }
  /** The same, with the video inline (`encodedVideo`) instead of a URI. */
  | { readonly kind: 'inline' }
  /** Done without samples: Responsible-AI filtering (`raiMediaFilteredCount`, `raiMediaFilteredReasons`). */
  | { readonly kind: 'filtered'; readonly reasons: readonly string[] }
  /** Done with a google.rpc.Status error; `code` is a google.rpc.Code number (3 INVALID_ARGUMENT, 13 INTERNAL…). */
  | { readonly kind: 'error'; readonly code: number; readonly message: string };

/** Options of {@link startGeminiFake}. */
export interface GeminiFakeOptions {
  /** The key the fake accepts (`x-goog-api-key`). Default `AIza-fake-test-key`. */
  readonly apiKey?: string;
  /** Polls of a new operation that answer `done: false`. Default 2. */
  readonly pendingPolls?: number;
  /** How operations end unless {@link GeminiFake.queueOutcome} says otherwise. Default success. */
  readonly outcome?: GeminiFakeOutcome;
  /** The model ids listed and accepted. Default Veo 3.1 and 3.1 Fast (stable ids). */
  readonly models?: readonly string[];
  /** The clips served. */
  readonly clip?: FakeClipOptions;
  /**
   * How long an operation runs, in ms from its start, whatever the number of polls. Default:
   * operations are done after `pendingPolls` polls. A function is called once per operation, at
   * its start (a spread of job times, as real services have).
   */
  readonly jobMs?: number | (() => number);
  /**
   * Response time in ms, for every route or per route name (`predictLongRunning`,
   * `operations.get`, `files.download`...).
   */
  readonly latencyMs?: FakeLatency;
}

/** What the fake knows of an operation. */
export interface GeminiFakeOperation {
  /** `models/{model}/operations/{id}`. */
  readonly name: string;
  readonly model: string;
  readonly prompt: string | undefined;
  readonly aspectRatio: string;
  readonly resolution: string;
  readonly durationSeconds: number;
  readonly imageMimeType: string;
  polls: number;
  readonly outcome: GeminiFakeOutcome;
  /** The id of its generated file. */
  readonly fileId: string;
}

/** A running Gemini fake. */
export interface GeminiFake {
  /** The origin, for `new GoogleGenAI({ httpOptions: { baseUrl: fake.url } })` (no version). */
  readonly url: string;
  /**
   * Requests per route: `models.list`, `predictLongRunning`, `operations.get`, `files.download`
   * (and `unknown`).
   */
  readonly counts: Map<string, number>;
  /** Operations started (accepted submits), in order. */
  readonly operations: readonly GeminiFakeOperation[];
  /** How many operations were started: every accepted `predictLongRunning`. */
  readonly submits: number;
  /** The requests received, in order. */
  readonly log: FakeHttpServer['log'];
  /** Queues faults for the next requests to a route (see {@link geminiFaults}). */
  inject(route: string, ...faults: FakeFault[]): void;
  /** The next operations started end like this, in order (then the default outcome applies). */
  queueOutcome(...outcomes: GeminiFakeOutcome[]): void;
  close(): Promise<void>;
}

/** Output size per aspect ratio and resolution, as Veo makes them. */
const SIZES: Readonly<Record<string, readonly [number, number]>> = {
  '9:16/720p': [720, 1280],
  '16:9/720p': [1280, 720],
  '9:16/1080p': [1080, 1920],
  '16:9/1080p': [1920, 1080],
};

/**
 * A google.rpc.Status error answer, as the Gemini API sends it:
 * `{ "error": { "code": <http>, "message", "status", "details": [...] } }`.
 */
export function googleRpcError(
  httpStatus: number,
  status: string,
  message: string,
  details: readonly Record<string, unknown>[] = [],
): FakeResponse & { readonly status: number; readonly body: unknown } {
  return {
    status: httpStatus,
    body: { error: { code: httpStatus, message, status, ...(details.length === 0 ? {} : { details }) } },
  };
}

/** Google's answer to a wrong key: HTTP 400 (not 401) with ErrorInfo `API_KEY_INVALID`. */
const invalidKeyResponse = () =>
  googleRpcError(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'API_KEY_INVALID',
      domain: 'googleapis.com',
      metadata: { service: 'generativelanguage.googleapis.com' },
    },
  ]);

const asFault = (response: { status: number; body: unknown }): FakeFault => ({ kind: 'status', ...response });

/** The Gemini API's error answers, as faults for {@link GeminiFake.inject}. */
export const geminiFaults = Object.freeze({
  /** 400 INVALID_ARGUMENT with ErrorInfo API_KEY_INVALID: how Google refuses a bad key. */
  invalidKey: (): FakeFault => asFault(invalidKeyResponse()),
  permissionDenied: (
    message = 'Veo is only available to paid tiers. Enable billing for this project.',
  ): FakeFault => asFault(googleRpcError(403, 'PERMISSION_DENIED', message)),
  /** 429 RESOURCE_EXHAUSTED with a per-minute QuotaFailure and RetryInfo. */
  rateLimited: (retryDelay = '37s'): FakeFault =>
    asFault(
      googleRpcError(
        429,
        'RESOURCE_EXHAUSTED',
        'You exceeded your current quota, please check your plan and billing details.',
        [
          {
            '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
            violations: [
              {
                quotaMetric: 'generativelanguage.googleapis.com/predict_long_running_requests',
                quotaId: 'PredictLongRunningRequestsPerMinutePerProjectPerModel',
                quotaValue: '10',
              },
            ],
          },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay },
        ],
      ),
    ),
  /** 429 RESOURCE_EXHAUSTED for a daily quota: waiting minutes does not help. */
  dailyQuota: (): FakeFault =>
    asFault(
      googleRpcError(
        429,
        'RESOURCE_EXHAUSTED',
        'You exceeded your current quota, please check your plan and billing details.',
        [
          {
            '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
            violations: [
              {
                quotaMetric: 'generativelanguage.googleapis.com/predict_long_running_requests',
                quotaId: 'PredictLongRunningRequestsPerDayPerProjectPerModel',
                quotaValue: '10',
              },
            ],
          },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '3600s' },
        ],
      ),
    ),
  invalidArgument: (message = 'durationSeconds must be one of 4, 6, 8.'): FakeFault =>
    asFault(googleRpcError(400, 'INVALID_ARGUMENT', message)),
  internal: (): FakeFault =>
    asFault(googleRpcError(500, 'INTERNAL', 'An internal error has occurred. Please retry or report it.')),
  unavailable: (): FakeFault =>
    asFault(googleRpcError(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.')),
});

/**
 * Starts a fake of the Gemini API's Veo endpoints that `@google/genai` accepts
 * (`new GoogleGenAI({ apiKey, httpOptions: { baseUrl: fake.url } })`): `GET /v1beta/models`,
 * `POST /v1beta/models/{model}:predictLongRunning` (validated like Veo 3: image bytes and mime
 * type, 9:16 or 16:9, 4/6/8 s, 720p or 1080p with 1080p only at 8 s), `GET /v1beta/{operation}`
 * (`done: false` for a few polls, then samples, a safety filtering or an error) and
 * `GET /v1beta/files/{id}:download?alt=media`, which serves a real MP4 and, like Google, needs the
 * key. Result URIs are `https://generativelanguage.googleapis.com/v1beta/files/<id>:download?alt=media`,
 * which the SDK (and the Veo provider) re-route to the base URL. A wrong key gets Google's
 * 400 API_KEY_INVALID; faults with google.rpc.Status bodies (see {@link geminiFaults}) are
 * injected per route.
 *
 * @example
 * ```ts
 * import { GoogleGenAI } from '@google/genai';
 * import { startGeminiFake } from '@vidgenie/nodes/testing';
 * const fake = await startGeminiFake();
 * const ai = new GoogleGenAI({ apiKey: 'AIza-fake-test-key', httpOptions: { baseUrl: fake.url } });
 * for await (const model of await ai.models.list()) console.log(model.name);
 * await fake.close();
 * ```
 */
export async function startGeminiFake(options: GeminiFakeOptions = {}): Promise<GeminiFake> {
  const apiKey = options.apiKey ?? 'AIza-fake-test-key';
  const pendingPolls = options.pendingPolls ?? 2;
  const defaultOutcome = options.outcome ?? { kind: 'succeed' };
  const models = options.models ?? ['veo-3.1-generate-001', 'veo-3.1-fast-generate-001'];
  const scale = options.clip?.scale ?? 0.25;
  const operations: GeminiFakeOperation[] = [];
  const byName = new Map<string, GeminiFakeOperation>();
  const byFile = new Map<string, GeminiFakeOperation>();
  const queued: GeminiFakeOutcome[] = [];
  /** When each operation started (`performance.now()`) and how long it runs, for `jobMs`. */
  const timings = new Map<GeminiFakeOperation, { readonly start: number; readonly ms: number }>();

  const refuse = (request: FakeRequest): FakeResponse | undefined => {
    const key = request.headers['x-goog-api-key'] ?? request.query.get('key') ?? undefined;
    if (key === undefined) {
      return googleRpcError(
        403,
        'PERMISSION_DENIED',
        "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
      );
    }
    if (key !== apiKey) return invalidKeyResponse();
    return undefined;
  };
  const invalid = (message: string) => googleRpcError(400, 'INVALID_ARGUMENT', message);
  const clipOf = (operation: GeminiFakeOperation) => {
    const [w, h] = SIZES[`${operation.aspectRatio}/${operation.resolution}`] ?? [1280, 720];
    return renderTestClip({
      width: w * scale,
      height: h * scale,
      seconds: options.clip?.seconds ?? operation.durationSeconds,
      fps: options.clip?.fps ?? 12,
      audio: true,
    });
  };

  const routes: FakeRoute[] = [
    {
      method: 'GET',
      path: '/v1beta/models',
      name: 'models.list',
      handle: (request) =>
        refuse(request) ?? {
          body: {
            models: models.map((id) => ({
              name: `models/${id}`,
              version: '3.1',
              displayName: id,
              supportedGenerationMethods: ['predictLongRunning'],
            })),
            nextPageToken: '',
          },
        },
    },
    {
      method: 'POST',
      path: /^\/v1beta\/models\/(?<model>[^/:]+):predictLongRunning$/,
      name: 'predictLongRunning',
      handle: (request) => {
        const refused = refuse(request);
        if (refused !== undefined) return refused;
        const model = request.params.model ?? '';
        if (!models.includes(model)) {
          return googleRpcError(
            404,
            'NOT_FOUND',
            `models/${model} is not found for API version v1beta, or is not supported for predictLongRunning.`,
          );
        }
        const body = request.json() as
          | { instances?: Record<string, unknown>[]; parameters?: Record<string, unknown> }
          | undefined;
        const instance = body?.instances?.[0];
        if (instance === undefined) return invalid('* instances: at least one instance is required.');
        const image = instance.image as { bytesBase64Encoded?: unknown; mimeType?: unknown } | undefined;
        if (image !== undefined) {
          if (
            typeof image.bytesBase64Encoded !== 'string' ||
            !/^[A-Za-z0-9+/]+=*$/.test(image.bytesBase64Encoded)
          ) {
            return invalid('* instances[0].image.bytesBase64Encoded: invalid base64 data.');
          }
          if (typeof image.mimeType !== 'string' || !/^image\/(png|jpeg|webp)$/.test(image.mimeType)) {
            return invalid('* instances[0].image.mimeType: unsupported MIME type.');
          }
        } else if (typeof instance.prompt !== 'string') {
          return invalid('* instances[0]: a prompt or an image is required.');
        }
        const parameters = body?.parameters ?? {};
        const aspectRatio = parameters.aspectRatio ?? '16:9';
        const resolution = parameters.resolution ?? '720p';
        const durationSeconds = parameters.durationSeconds ?? 8;
        if (aspectRatio !== '16:9' && aspectRatio !== '9:16') {
          return invalid(`Aspect ratio ${String(aspectRatio)} is not supported. Use 16:9 or 9:16.`);
        }
        if (resolution !== '720p' && resolution !== '1080p') {
          return invalid(`Resolution ${String(resolution)} is not supported. Use 720p or 1080p.`);
        }
        if (durationSeconds !== 4 && durationSeconds !== 6 && durationSeconds !== 8) {
          return invalid('durationSeconds must be one of 4, 6, 8.');
        }
        if (resolution === '1080p' && durationSeconds !== 8) {
          return invalid('1080p videos must be 8 seconds long.');
        }
        const sampleCount = parameters.sampleCount ?? 1;
        if (typeof sampleCount !== 'number' || sampleCount < 1 || sampleCount > 4) {
          return invalid('sampleCount must be between 1 and 4.');
        }
        const id = randomBytes(8).toString('hex');
        const operation: GeminiFakeOperation = {
          name: `models/${model}/operations/${id}`,
          model,
          prompt: typeof instance.prompt === 'string' ? instance.prompt : undefined,
          aspectRatio,
          resolution,
          durationSeconds,
          imageMimeType: typeof image?.mimeType === 'string' ? image.mimeType : '',
          polls: 0,
          outcome: queued.shift() ?? defaultOutcome,
          fileId: randomBytes(6).toString('hex'),
        };
        operations.push(operation);
        if (options.jobMs !== undefined) {
          const ms = typeof options.jobMs === 'function' ? options.jobMs() : options.jobMs;
          timings.set(operation, { start: performance.now(), ms });
        }
        byName.set(operation.name, operation);
        byFile.set(operation.fileId, operation);
        return { body: { name: operation.name } };
      },
    },
    {
      method: 'GET',
      path: /^\/v1beta\/(?<name>models\/[^/]+\/operations\/[^/]+)$/,
      name: 'operations.get',
      handle: async (request) => {
        const refused = refuse(request);
        if (refused !== undefined) return refused;
        const operation = byName.get(request.params.name ?? '');
        if (operation === undefined) {
          return googleRpcError(404, 'NOT_FOUND', `Operation ${request.params.name ?? ''} not found.`);
        }
        operation.polls++;
        const name = operation.name;
        const timing = timings.get(operation);
        const running =
          timing === undefined
            ? operation.polls <= pendingPolls
            : performance.now() - timing.start < timing.ms;
        if (running) return { body: { name, done: false } };
        switch (operation.outcome.kind) {
          case 'succeed':
            return {
              body: {
                name,
                done: true,
                response: {
                  '@type':
                    'type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse',
                  generateVideoResponse: {
                    generatedSamples: [
                      {
                        video: {
                          uri: `https://generativelanguage.googleapis.com/v1beta/files/${operation.fileId}:download?alt=media`,
                        },
                      },
                    ],
                  },
                },
              },
            };
          case 'inline': {
            const bytes = await clipOf(operation);
            return {
              body: {
                name,
                done: true,
                response: {
                  generateVideoResponse: {
                    generatedSamples: [
                      {
                        video: { encodedVideo: Buffer.from(bytes).toString('base64'), encoding: 'video/mp4' },
                      },
                    ],
                  },
                },
              },
            };
          }
          case 'filtered':
            return {
              body: {
                name,
                done: true,
                response: {
                  generateVideoResponse: {
                    raiMediaFilteredCount: operation.outcome.reasons.length,
                    raiMediaFilteredReasons: operation.outcome.reasons,
                  },
                },
              },
            };
          case 'error':
            return {
              body: {
                name,
                done: true,
                error: { code: operation.outcome.code, message: operation.outcome.message },
              },
            };
        }
      },
    },
    {
      method: 'GET',
      path: /^\/v1beta\/files\/(?<id>[a-z0-9]+):download$/,
      name: 'files.download',
      handle: async (request) => {
        const refused = refuse(request);
        if (refused !== undefined) return refused;
        const operation = byFile.get(request.params.id ?? '');
        if (operation === undefined || request.query.get('alt') !== 'media') {
          return googleRpcError(404, 'NOT_FOUND', 'File not found.');
        }
        const bytes = await clipOf(operation);
        return {
          headers: { 'content-type': 'video/mp4', 'content-length': String(bytes.length) },
          body: bytes,
        };
      },
    },
  ];
  const server = await startFakeHttpServer(routes, { latencyMs: options.latencyMs });

  return {
    url: server.url,
    counts: server.counts,
    operations,
    get submits() {
      return operations.length;
    },
    log: server.log,
    inject: (route, ...faults) => server.inject(route, ...faults),
    queueOutcome: (...outcomes) => {
      queued.push(...outcomes);
    },
    close: () => server.close(),
  };
}

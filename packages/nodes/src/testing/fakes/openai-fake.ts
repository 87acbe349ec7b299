import { PNG } from 'pngjs';
import { enhancePrompt } from '../../providers/local/local-text-provider.ts';
import { hashString } from '../../providers/local/prompt-scene.ts';
import {
  type FakeFault,
  type FakeHttpServer,
  type FakeLatency,
  type FakeRequest,
  type FakeResponse,
  type FakeRoute,
  startFakeHttpServer,
} from './fake-http-server.ts';

/** The key an {@link OpenAiFake} accepts unless told otherwise. */
export const OPENAI_FAKE_KEY = 'sk-fake-openai-key-0000';

/** Options of {@link startOpenAiFake}. */
export interface OpenAiFakeOptions {
  /** The keys the fake accepts (Bearer). Default `[OPENAI_FAKE_KEY]`. */
  readonly validKeys?: Iterable<string>;
  /** Words that make an image prompt fail with OpenAI's `moderation_blocked` 400. Default `['unsafe']`. */
  readonly unsafeWords?: readonly string[];
  /**
   * Echo the whole key in 401 messages, as a careless proxy might (a worst case for secret-scrubbing
   * tests). Default false: the key is masked the way OpenAI does (`sk-***…abcd`).
   */
  readonly echoKeyInErrors?: boolean;
  /** The model ids `GET /v1/models` lists. */
  readonly models?: readonly string[];
  /** Response time in ms, for every route or per route name (`chat.completions`, `images.generate`). */
  readonly latencyMs?: FakeLatency;
}

/** One request a route handled, with its JSON body. */
export interface OpenAiFakeRequest {
  readonly route: 'chat.completions' | 'images.generate' | 'models.list';
  readonly body: unknown;
}

/** A running OpenAI fake: `POST /v1/chat/completions`, `POST /v1/images/generations`, `GET /v1/models`. */
export interface OpenAiFake {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  readonly url: string;
  /** `url + '/v1'`: the SDK's `baseURL`. */
  readonly baseURL: string;
  /** Requests per route name: `chat.completions`, `images.generate`, `models.list`. */
  readonly counts: FakeHttpServer['counts'];
  /** Every request received (method, path, route, Authorization header). */
  readonly log: FakeHttpServer['log'];
  /** The requests the routes handled (not the faulted ones), with their bodies, in order. */
  readonly requests: readonly OpenAiFakeRequest[];
  /** Queues faults for a route name; see {@link openAiFaults} for OpenAI's exact error answers. */
  inject(route: OpenAiFakeRequest['route'], ...faults: FakeFault[]): void;
  /** OpenAI's error answers, ready to inject. */
  readonly faults: typeof openAiFaults;
  close(): Promise<void>;
}

let requestCounter = 0;
/** An `x-request-id`, which the SDK reads into `error.requestID`. */
const nextRequestId = () => `req_fake${(++requestCounter).toString(16).padStart(8, '0')}`;

/** OpenAI's error envelope (providers.md §1.4). */
function openAiError(
  status: number,
  error: { message: string; type: string; param?: string | null; code?: string | null },
  headers: Readonly<Record<string, string>> = {},
): FakeResponse & { readonly status: number; readonly body: unknown } {
  return {
    status,
    headers: { 'x-request-id': nextRequestId(), ...headers },
    body: {
      error: {
        message: error.message,
        type: error.type,
        param: error.param ?? null,
        code: error.code ?? null,
      },
    },
  };
}

const asFault = (response: ReturnType<typeof openAiError>): FakeFault => ({
  kind: 'status',
  status: response.status,
  body: response.body,
  ...(response.headers === undefined ? {} : { headers: response.headers }),
});

/**
 * OpenAI's error answers (providers.md §1.4 and §2), as faults to inject into an {@link OpenAiFake}.
 * Each takes an optional `message` to override OpenAI's text (e.g. to plant a canary).
 */
export const openAiFaults = Object.freeze({
  /** 401 `invalid_api_key`. */
  invalidKey: (args: { readonly message?: string } = {}): FakeFault =>
    asFault(
      openAiError(401, {
        message:
          args.message ??
          'Incorrect API key provided: sk-abc***. You can find your API key at https://platform.openai.com/account/api-keys.',
        type: 'invalid_request_error',
        code: 'invalid_api_key',
      }),
    ),
  /** 403, e.g. an unsupported country. */
  permissionDenied: (args: { readonly message?: string } = {}): FakeFault =>
    asFault(
      openAiError(403, {
        message: args.message ?? 'Country, region, or territory not supported',
        type: 'request_forbidden',
        code: 'unsupported_country_region_territory',
      }),
    ),
  /** 429 `rate_limit_exceeded` with `retry-after` (seconds, default 0) and optionally `retry-after-ms`. */
  rateLimited: (
    args: {
      readonly retryAfterSeconds?: number;
      readonly retryAfterMs?: number;
      readonly message?: string;
    } = {},
  ): FakeFault =>
    asFault(
      openAiError(
        429,
        {
          message:
            args.message ??
            'Rate limit reached for gpt-5.4-mini in organization org-fake on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 120ms.',
          type: 'requests',
          code: 'rate_limit_exceeded',
        },
        {
          'retry-after': String(args.retryAfterSeconds ?? 0),
          ...(args.retryAfterMs === undefined ? {} : { 'retry-after-ms': String(args.retryAfterMs) }),
          'x-ratelimit-remaining-requests': '0',
          'x-ratelimit-reset-requests': '1s',
        },
      ),
    ),
  /** 429 `insufficient_quota`: the key is valid but the account has no credit. */
  insufficientQuota: (args: { readonly message?: string } = {}): FakeFault =>
    asFault(
      openAiError(429, {
        message:
          args.message ??
          'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
        type: 'insufficient_quota',
        code: 'insufficient_quota',
      }),
    ),
  /** 400 `moderation_blocked`: GPT image's safety rejection. */
  moderationBlocked: (args: { readonly message?: string } = {}): FakeFault =>
    asFault(moderationBlocked(args.message)),
  /** 400 `content_policy_violation`: DALL·E's (legacy) safety rejection. */
  contentPolicy: (args: { readonly message?: string } = {}): FakeFault =>
    asFault(
      openAiError(400, {
        message:
          args.message ??
          'Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.',
        type: 'invalid_request_error',
        code: 'content_policy_violation',
      }),
    ),
  /** A 4xx `invalid_request_error`. */
  badRequest: (
    args: {
      readonly status?: number;
      readonly message?: string;
      readonly param?: string;
      readonly code?: string;
    } = {},
  ): FakeFault =>
    asFault(
      openAiError(args.status ?? 400, {
        message: args.message ?? "Invalid value for 'model'.",
        type: 'invalid_request_error',
        param: args.param ?? null,
        code: args.code ?? null,
      }),
    ),
  /** A 5xx `server_error` (default 500). */
  serverError: (args: { readonly status?: number; readonly message?: string } = {}): FakeFault =>
    asFault(
      openAiError(args.status ?? 500, {
        message: args.message ?? 'The server had an error while processing your request. Sorry about that!',
        type: 'server_error',
      }),
    ),
});

function moderationBlocked(message?: string) {
  const id = nextRequestId();
  return openAiError(
    400,
    {
      message:
        message ??
        `Your request was rejected by the safety system. If you believe this is an error, contact us at help.openai.com and include the request ID ${id}. safety_violations=[violence].`,
      type: 'image_generation_user_error',
      code: 'moderation_blocked',
    },
    { 'x-request-id': id },
  );
}

/** OpenAI's way of showing a wrong key: its start and its last four characters. */
function maskKey(key: string): string {
  return key.length <= 8
    ? '***'
    : `${key.slice(0, 3)}${'*'.repeat(Math.min(40, key.length - 7))}${key.slice(-4)}`;
}

/** Rough token count, as OpenAI bills (≈ 4 characters per token). */
const tokens = (text: string) => Math.max(1, Math.ceil(text.length / 4));

const GPT_IMAGE_SIZES: Readonly<Record<string, readonly [number, number]>> = {
  '1024x1024': [1024, 1024],
  '1024x1536': [1024, 1536],
  '1536x1024': [1536, 1024],
  auto: [1024, 1024],
};

/**
 * A real PNG of `width`x`height`: a vertical gradient whose colours come from the prompt. Rows are
 * uniform, so the Sub filter makes it tiny and fast to encode even at 1536 px.
 */
function renderPng(width: number, height: number, prompt: string): Buffer {
  const seed = hashString(prompt);
  const top = [seed & 0xff, (seed >>> 8) & 0xff, (seed >>> 16) & 0xff];
  const bottom = top.map((c) => 255 - c);
  const png = new PNG({ width, height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  const data = Buffer.alloc(width * height * 3);
  const rowBytes = width * 3;
  for (let y = 0; y < height; y++) {
    const t = height === 1 ? 0 : y / (height - 1);
    const color = Buffer.from(top.map((c, i) => Math.round(c + (bottom[i]! - c) * t)));
    // A native fill of the row with its colour: the fake stands for a remote service, so its CPU
    // time (it shares the machine with what benches measure) should be small.
    data.fill(color, y * rowBytes, (y + 1) * rowBytes);
  }
  png.data = data;
  return PNG.sync.write(png, {
    colorType: 2,
    inputColorType: 2,
    inputHasAlpha: false,
    filterType: 1,
    deflateLevel: 1,
  });
}

/** The text of the last user message (a string or text parts). */
function lastUserText(messages: readonly unknown[]): string | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i] as { role?: unknown; content?: unknown } | null;
    if (message?.role !== 'user') continue;
    if (typeof message.content === 'string') return message.content;
    if (Array.isArray(message.content)) {
      return message.content
        .map((part: { type?: unknown; text?: unknown }) =>
          part?.type === 'text' && typeof part.text === 'string' ? part.text : '',
        )
        .join('');
    }
  }
  return undefined;
}

const contentText = (content: unknown): string =>
  typeof content === 'string' ? content : Array.isArray(content) ? JSON.stringify(content) : '';

/**
 * Starts a fake of the OpenAI API on loopback that the official `openai` SDK accepts
 * (`new OpenAI({ apiKey, baseURL: fake.baseURL, maxRetries: 0 })`), speaking the wire formats of
 * providers.md §1 and §2:
 *
 * - `POST /v1/chat/completions`: a `chat.completion` with `usage`; the answer is the local
 *   enhancer's rewrite of the last user message (deterministic, in the prompt's language), cut at
 *   `max_completion_tokens` with `finish_reason: "length"`.
 * - `POST /v1/images/generations`: GPT image models only; a real PNG of the requested size as
 *   `b64_json`; unsupported sizes, qualities or a `response_format` get OpenAI's 400; prompts
 *   with an unsafe word get the `moderation_blocked` 400.
 * - `GET /v1/models`: the list.
 *
 * Every route checks `Authorization: Bearer <key>` against `validKeys` (401 `invalid_api_key`
 * otherwise) and sends an `x-request-id`. Faults (outages, 429s, hangs, malformed JSON) are
 * injected per route with `inject`, using {@link openAiFaults} for OpenAI's exact answers.
 *
 * @example
 * ```ts
 * import OpenAI from 'openai';
 * import { OPENAI_FAKE_KEY, startOpenAiFake } from '@vidgenie/nodes/testing';
 * const fake = await startOpenAiFake();
 * const client = new OpenAI({ apiKey: OPENAI_FAKE_KEY, baseURL: fake.baseURL, maxRetries: 0 });
 * fake.inject('chat.completions', fake.faults.rateLimited({ retryAfterSeconds: 0 }));
 * await client.chat.completions.create({ model: 'gpt-5.4-mini', messages: [{ role: 'user', content: 'a fox' }] })
 *   .catch((error) => console.log(error.status)); // 429
 * await fake.close();
 * ```
 */
export async function startOpenAiFake(options: OpenAiFakeOptions = {}): Promise<OpenAiFake> {
  const validKeys = new Set(options.validKeys ?? [OPENAI_FAKE_KEY]);
  const unsafeWords = (options.unsafeWords ?? ['unsafe']).map((word) => word.toLowerCase());
  const models = options.models ?? ['gpt-5.4-mini', 'gpt-image-2', 'gpt-4.1-mini'];
  const requests: OpenAiFakeRequest[] = [];
  let completions = 0;

  /** The 401 for a missing or unknown key, or undefined when the key is valid. */
  const unauthorized = (request: FakeRequest): FakeResponse | undefined => {
    const header = request.headers.authorization;
    const key = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (key === '') {
      return openAiError(401, {
        message:
          "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
        type: 'invalid_request_error',
      });
    }
    if (validKeys.has(key)) return undefined;
    return openAiError(401, {
      message: `Incorrect API key provided: ${options.echoKeyInErrors ? key : maskKey(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      type: 'invalid_request_error',
      code: 'invalid_api_key',
    });
  };

  const invalid = (message: string, param: string | null, code: string | null = null) =>
    openAiError(400, { message, type: 'invalid_request_error', param, code });

  const chat = (request: FakeRequest): FakeResponse => {
    const denied = unauthorized(request);
    if (denied !== undefined) return denied;
    const body = request.json() as Record<string, unknown> | undefined;
    if (body === undefined || typeof body !== 'object' || body === null) {
      return invalid('We could not parse the JSON body of your request.', null);
    }
    requests.push({ route: 'chat.completions', body });
    if (typeof body.model !== 'string' || body.model === '') {
      return invalid('you must provide a model parameter', null);
    }
    const messages = body.messages;
    if (!Array.isArray(messages) || messages.length === 0) {
      return invalid("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter');
    }
    const temperature = body.temperature;
    if (temperature !== undefined && temperature !== null) {
      if (typeof temperature !== 'number' || temperature < 0 || temperature > 2) {
        return invalid(
          `Invalid 'temperature': decimal must be between 0 and 2, got ${JSON.stringify(temperature)}.`,
          'temperature',
          'invalid_value',
        );
      }
    }
    const prompt = lastUserText(messages) ?? '';
    let answer = enhancePrompt(prompt === '' ? 'an empty prompt' : prompt);
    let finishReason = 'stop';
    const limit = body.max_completion_tokens ?? body.max_tokens;
    if (typeof limit === 'number' && tokens(answer) > limit) {
      answer = answer.slice(0, limit * 4);
      finishReason = 'length';
    }
    const promptTokens = messages.reduce(
      (sum: number, m: { content?: unknown }) => sum + 4 + tokens(contentText(m?.content)),
      3,
    );
    const completionTokens = tokens(answer);
    completions++;
    return {
      headers: { 'x-request-id': nextRequestId(), 'openai-processing-ms': '42' },
      body: {
        id: `chatcmpl-fake${completions.toString().padStart(6, '0')}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: body.model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: answer, refusal: null, annotations: [] },
            logprobs: null,
            finish_reason: finishReason,
          },
        ],
        usage: {
          prompt_tokens: promptTokens,
          completion_tokens: completionTokens,
          total_tokens: promptTokens + completionTokens,
          prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
          completion_tokens_details: {
            reasoning_tokens: 0,
            audio_tokens: 0,
            accepted_prediction_tokens: 0,
            rejected_prediction_tokens: 0,
          },
        },
        service_tier: 'default',
        system_fingerprint: null,
      },
    };
  };

  const images = (request: FakeRequest): FakeResponse => {
    const denied = unauthorized(request);
    if (denied !== undefined) return denied;
    const body = request.json() as Record<string, unknown> | undefined;
    if (body === undefined || typeof body !== 'object' || body === null) {
      return invalid('We could not parse the JSON body of your request.', null);
    }
    requests.push({ route: 'images.generate', body });
    const prompt = body.prompt;
    if (typeof prompt !== 'string' || prompt.trim() === '') {
      return invalid("Missing required parameter: 'prompt'.", 'prompt', 'missing_required_parameter');
    }
    // Without a model (or a GPT-image-only parameter) OpenAI uses dall-e-2; this fake speaks GPT image only.
    const model = typeof body.model === 'string' ? body.model : 'dall-e-2';
    if (!/^(gpt-image|chatgpt-image)/.test(model)) {
      return invalid(
        `Invalid value for 'model': this fake only serves GPT image models, not '${model}'.`,
        'model',
      );
    }
    if (body.response_format !== undefined && body.response_format !== null) {
      return invalid("Unknown parameter: 'response_format'.", 'response_format', 'unknown_parameter');
    }
    const size = body.size ?? 'auto';
    const dimensions = typeof size === 'string' ? GPT_IMAGE_SIZES[size] : undefined;
    if (dimensions === undefined) {
      return invalid(
        `Invalid value: '${String(size)}'. Supported values are: '1024x1024', '1024x1536', '1536x1024', and 'auto'.`,
        'size',
        'invalid_value',
      );
    }
    const quality = body.quality ?? 'auto';
    if (typeof quality !== 'string' || !['low', 'medium', 'high', 'auto'].includes(quality)) {
      return invalid(
        `Invalid value: '${String(quality)}'. Supported values are: 'low', 'medium', 'high', and 'auto'.`,
        'quality',
        'invalid_value',
      );
    }
    const format = body.output_format ?? 'png';
    if (format !== 'png') {
      return invalid(
        `This fake only renders 'png', not '${String(format)}'.`,
        'output_format',
        'invalid_value',
      );
    }
    const n = body.n ?? 1;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 10) {
      return invalid(
        `Invalid 'n': integer must be between 1 and 10, got ${JSON.stringify(n)}.`,
        'n',
        'invalid_value',
      );
    }
    const lower = prompt.toLowerCase();
    if (unsafeWords.some((word) => lower.includes(word))) return moderationBlocked();
    const [width, height] = dimensions;
    const b64 = renderPng(width, height, prompt).toString('base64');
    const imageTokens = quality === 'high' ? 4160 : quality === 'low' ? 272 : 1056;
    const inputTokens = tokens(prompt);
    return {
      headers: { 'x-request-id': nextRequestId() },
      body: {
        created: Math.floor(Date.now() / 1000),
        background: 'opaque',
        output_format: 'png',
        quality: quality === 'auto' ? 'medium' : quality,
        size: `${width}x${height}`,
        data: Array.from({ length: n }, () => ({ b64_json: b64 })),
        usage: {
          input_tokens: inputTokens,
          input_tokens_details: { text_tokens: inputTokens, image_tokens: 0 },
          output_tokens: imageTokens * n,
          output_tokens_details: { image_tokens: imageTokens * n, text_tokens: 0 },
          total_tokens: inputTokens + imageTokens * n,
        },
      },
    };
  };

  const listModels = (request: FakeRequest): FakeResponse => {
    const denied = unauthorized(request);
    if (denied !== undefined) return denied;
    requests.push({ route: 'models.list', body: undefined });
    return {
      headers: { 'x-request-id': nextRequestId() },
      body: {
        object: 'list',
        data: models.map((id) => ({ id, object: 'model', created: 1_773_705_600, owned_by: 'system' })),
      },
    };
  };

  const routes: FakeRoute[] = [
    { method: 'POST', path: '/v1/chat/completions', name: 'chat.completions', handle: chat },
    { method: 'POST', path: '/v1/images/generations', name: 'images.generate', handle: images },
    { method: 'GET', path: '/v1/models', name: 'models.list', handle: listModels },
  ];
  const server = await startFakeHttpServer(routes, { latencyMs: options.latencyMs });
  return {
    url: server.url,
    baseURL: `${server.url}/v1`,
    counts: server.counts,
    log: server.log,
    requests,
    inject: (route, ...faults) => server.inject(route, ...faults),
    faults: openAiFaults,
    close: () => server.close(),
  };
}

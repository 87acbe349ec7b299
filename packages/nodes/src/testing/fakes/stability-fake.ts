import { createHash, randomBytes } from 'node:crypto';
import { PNG } from 'pngjs';
import {
  type FakeHttpServer,
  type FakeLatency,
  type FakeRequest,
  type FakeResponse,
  type FakeRoute,
  startFakeHttpServer,
} from './fake-http-server.ts';

/**
 * The pixel size Stability returns for each `aspect_ratio`: its documented ~1 megapixel table
 * ("Understanding aspect ratios in our APIs"). Core is documented as 1.5 megapixels and may differ;
 * clients must read the size from the image, as the Stability provider does.
 */
export const STABILITY_RESOLUTIONS: Readonly<Record<string, readonly [number, number]>> = Object.freeze({
  '16:9': [1344, 768],
  '1:1': [1024, 1024],
  '21:9': [1536, 640],
  '2:3': [832, 1216],
  '3:2': [1216, 832],
  '4:5': [896, 1088],
  '5:4': [1088, 896],
  '9:16': [768, 1344],
  '9:21': [640, 1536],
});

/** Credits per image (Stability's published prices; 1 credit = $0.01). */
const COSTS: Readonly<Record<string, number>> = {
  ultra: 8,
  core: 3,
  'sd3.5-large': 6.5,
  'sd3.5-large-turbo': 4,
  'sd3.5-medium': 3.5,
  'sd3.5-flash': 2.5,
};

/** One generation request the fake received, as parsed from its multipart body. */
export interface StabilityFakeRequest {
  /** `ultra`, `core` or `sd3`. */
  readonly endpoint: string;
  /** The text fields (prompt, aspect_ratio, output_format, model...). */
  readonly fields: Readonly<Record<string, string>>;
  readonly accept: string | undefined;
  readonly contentType: string | undefined;
}

/** Options of {@link startStabilityFake}. */
export interface StabilityFakeOptions {
  /** The key the fake accepts (`Authorization: Bearer <key>`). Default `sk-stability-test`. */
  readonly apiKey?: string;
  /** The account's starting balance, in Stability credits. Default 1000. */
  readonly credits?: number;
  /** Prompts containing one of these words get a 403 `content_moderation`. Default `['forbidden']`. */
  readonly flaggedWords?: readonly string[];
  /** Prompts containing one of these words get a 200 with `finish-reason: CONTENT_FILTERED`. Default `['blurry-nsfw']`. */
  readonly filteredWords?: readonly string[];
  /** Response time in ms, for every route or per route name (`generate`, `balance`, `account`). */
  readonly latencyMs?: FakeLatency;
}

/** A running Stability fake. Route names: `generate`, `balance`, `account`. */
export interface StabilityFake extends FakeHttpServer {
  /** The accepted key. */
  readonly apiKey: string;
  /** The generation requests received, in order (after the auth check). */
  readonly requests: readonly StabilityFakeRequest[];
  /** The remaining balance; each successful image costs its endpoint's (or model's) price. */
  credits: number;
}

/**
 * Starts a fake of Stability AI's REST API (v2beta Stable Image), on loopback, speaking the wire
 * format of providers.md §5:
 *
 * - `POST /v2beta/stable-image/generate/{ultra|core|sd3}`: `Authorization: Bearer <key>` is
 *   checked (401 `unauthorized`); the body must be `multipart/form-data` (400 otherwise); `prompt`
 *   (1–10 000 characters), `aspect_ratio` (Stability's nine ratios, default `1:1`), `output_format`
 *   and, for `sd3`, `model` are validated (400 `bad_request`). It answers a real PNG at the size
 *   Stability gives that ratio ({@link STABILITY_RESOLUTIONS}), as raw bytes for `Accept: image/*`
 *   (headers `finish-reason`, `seed`, `x-request-id`) or as `{ image, finish_reason, seed }` JSON for
 *   `Accept: application/json`. It only draws PNG: `jpeg`/`webp` answer 400 (a fake limitation).
 * - Flagged prompt words answer 403 `content_moderation`; filtered words answer 200 with
 *   `finish-reason: CONTENT_FILTERED`; an empty balance answers 402 `payment_required`.
 * - `GET /v1/user/balance` → `{ credits }`; `GET /v1/user/account` → a profile.
 *
 * Errors have Stability's shape `{ id, name, errors: [...] }`. Use `inject('generate', ...)` for
 * 429s, 5xx, hangs and malformed answers.
 *
 * @example
 * ```ts
 * import { startStabilityFake } from '@vidgenie/nodes/testing';
 * const fake = await startStabilityFake();
 * const form = new FormData();
 * form.append('prompt', 'a lighthouse');
 * form.append('aspect_ratio', '9:16');
 * const res = await fetch(`${fake.url}/v2beta/stable-image/generate/core`, {
 *   method: 'POST', headers: { authorization: `Bearer ${fake.apiKey}`, accept: 'image/*' }, body: form,
 * });
 * console.log(res.headers.get('content-type')); // image/png (768x1344)
 * await fake.close();
 * ```
 */
export async function startStabilityFake(options: StabilityFakeOptions = {}): Promise<StabilityFake> {
  const apiKey = options.apiKey ?? 'sk-stability-test';
  const flagged = options.flaggedWords ?? ['forbidden'];
  const filtered = options.filteredWords ?? ['blurry-nsfw'];
  const requests: StabilityFakeRequest[] = [];
  const state = { credits: options.credits ?? 1000 };

  const unauthorized = (request: FakeRequest): FakeResponse | undefined => {
    const header = request.headers.authorization;
    if (header === `Bearer ${apiKey}`) return undefined;
    return stabilityError(
      401,
      'unauthorized',
      header === undefined ? 'authorization: missing' : 'authorization: invalid or revoked API key',
    );
  };

  const routes: FakeRoute[] = [
    {
      method: 'POST',
      path: /^\/v2beta\/stable-image\/generate\/(?<endpoint>[a-z0-9-]+)$/,
      name: 'generate',
      handle(request) {
        const denied = unauthorized(request);
        if (denied !== undefined) return denied;
        const endpoint = request.params.endpoint ?? '';
        if (!['ultra', 'core', 'sd3'].includes(endpoint)) {
          return stabilityError(404, 'not_found', `${request.path}: no such endpoint`);
        }
        const contentType = request.headers['content-type'];
        const fields = parseMultipart(request.body, contentType);
        if (fields === undefined) {
          return stabilityError(400, 'bad_request', 'content-type: must be multipart/form-data');
        }
        const accept = request.headers.accept;
        requests.push({ endpoint, fields, accept, contentType });

        const json = accept === 'application/json';
        if (accept !== undefined && !json && accept !== 'image/*' && accept !== '*/*') {
          return stabilityError(400, 'bad_request', 'accept: must be image/* or application/json');
        }
        const prompt = fields.prompt ?? '';
        if (prompt.trim() === '') return stabilityError(400, 'bad_request', 'prompt: cannot be empty');
        if (prompt.length > 10_000) {
          return stabilityError(400, 'bad_request', 'prompt: must be at most 10000 characters');
        }
        const ratio = fields.aspect_ratio ?? '1:1';
        const size = STABILITY_RESOLUTIONS[ratio];
        if (size === undefined) {
          return stabilityError(
            400,
            'bad_request',
            `aspect_ratio: must be one of ${Object.keys(STABILITY_RESOLUTIONS).join(', ')}`,
          );
        }
        const format = fields.output_format ?? 'png';
        if (!['png', 'jpeg', 'webp'].includes(format)) {
          return stabilityError(400, 'bad_request', 'output_format: must be one of png, jpeg, webp');
        }
        if (format !== 'png') {
          return stabilityError(400, 'bad_request', `output_format: the fake only draws png, not ${format}`);
        }
        let cost = COSTS[endpoint] ?? 0;
        if (endpoint === 'sd3') {
          const model = fields.model ?? 'sd3.5-large';
          const price = COSTS[model];
          if (price === undefined) {
            return stabilityError(400, 'bad_request', `model: unknown model ${JSON.stringify(model)}`);
          }
          cost = price;
        }
        const words = prompt.toLowerCase();
        if (flagged.some((w) => words.includes(w.toLowerCase()))) {
          return stabilityError(
            403,
            'content_moderation',
            'Your request was flagged by our content moderation system, as a result your request was denied and you were not charged.',
          );
        }
        if (state.credits < cost) {
          return stabilityError(
            402,
            'payment_required',
            'You lack sufficient credits to make this request. Please purchase more credits and try again.',
          );
        }
        const finishReason = filtered.some((w) => words.includes(w.toLowerCase()))
          ? 'CONTENT_FILTERED'
          : 'SUCCESS';
        if (finishReason === 'SUCCESS') state.credits -= cost;
        const seed = Number(fields.seed ?? 0) || seedOf(prompt);
        const png = drawPng(size[0], size[1], `${prompt}|${seed}`);
        const requestId = randomBytes(16).toString('hex');
        if (json) {
          return {
            headers: { 'content-type': 'application/json; type=image/png', 'x-request-id': requestId },
            body: { image: Buffer.from(png).toString('base64'), finish_reason: finishReason, seed },
          };
        }
        return {
          headers: {
            'content-type': 'image/png',
            'finish-reason': finishReason,
            seed: String(seed),
            'x-request-id': requestId,
          },
          body: png,
        };
      },
    },
    {
      method: 'GET',
      path: '/v1/user/balance',
      name: 'balance',
      handle: (request) => unauthorized(request) ?? { body: { credits: state.credits } },
    },
    {
      method: 'GET',
      path: '/v1/user/account',
      name: 'account',
      handle: (request) =>
        unauthorized(request) ?? {
          body: {
            id: 'user-fake',
            email: 'creator@example.com',
            profile_picture: 'https://example.com/avatar.png',
            organizations: [{ id: 'org-fake', name: 'Fake org', role: 'MEMBER', is_default: true }],
          },
        },
    },
  ];
  const server = await startFakeHttpServer(routes, { latencyMs: options.latencyMs });

  return {
    url: server.url,
    counts: server.counts,
    log: server.log,
    inject: server.inject,
    close: server.close,
    apiKey,
    requests,
    get credits() {
      return state.credits;
    },
    set credits(value: number) {
      state.credits = value;
    },
  };
}

/** An error in Stability's shape. */
function stabilityError(status: number, name: string, message: string): FakeResponse {
  return { status, body: { id: randomBytes(16).toString('hex'), name, errors: [message] } };
}

/**
 * Reads the text fields of a `multipart/form-data` body (file parts are skipped), or undefined when
 * the body is not multipart.
 */
function parseMultipart(body: Buffer, contentType: string | undefined): Record<string, string> | undefined {
  if (contentType === undefined || !/^multipart\/form-data\b/i.test(contentType)) return undefined;
  const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (boundary === undefined) return undefined;
  const delimiter = Buffer.from(`--${boundary}`);
  const fields: Record<string, string> = {};
  let at = body.indexOf(delimiter);
  if (at < 0) return undefined;
  for (;;) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break; // the closing delimiter
    const next = body.indexOf(delimiter, start);
    if (next < 0) return undefined;
    // A part is CRLF, headers, CRLF CRLF, content, CRLF.
    const part = body.subarray(start + 2, next - 2);
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) return undefined;
    const headers = part.subarray(0, split).toString('utf8');
    const disposition = /content-disposition:[^\r\n]*/i.exec(headers)?.[0] ?? '';
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
    if (name !== undefined && !/\bfilename=/i.test(disposition)) {
      fields[name] = part.subarray(split + 4).toString('utf8');
    }
    at = next;
  }
  return fields;
}

function seedOf(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0) % 4_294_967_294 || 1;
}

/** A real PNG of the given size: a gradient whose colours come from `text`. */
function drawPng(width: number, height: number, text: string): Uint8Array {
  const digest = createHash('sha256').update(text).digest();
  const [r0 = 0, g0 = 0, b0 = 0, r1 = 255, g1 = 255, b1 = 255] = digest;
  const png = new PNG({ width, height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    const t = y / (height - 1);
    const r = Math.round(r0 + (r1 - r0) * t);
    const g = Math.round(g0 + (g1 - g0) * t);
    const b = Math.round(b0 + (b1 - b0) * t);
    const row = y * width * 3;
    for (let x = 0; x < width; x++) {
      data[row + x * 3] = r;
      data[row + x * 3 + 1] = g;
      data[row + x * 3 + 2] = b;
    }
  }
  png.data = data;
  const bytes = PNG.sync.write(png, {
    colorType: 2,
    inputColorType: 2,
    inputHasAlpha: false,
    filterType: 1,
    deflateLevel: 1,
  });
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

import { crc32, deflateSync } from 'node:zlib';
import {
  type FakeHttpServer,
  type FakeRequest,
  type FakeResponse,
  startFakeHttpServer,
} from '@vidgenie/nodes/testing';

/** The key an {@link AcmeFake} accepts unless told otherwise. */
export const ACME_FAKE_KEY = 'acme-live-fake-key-0000';

/** Options of {@link startAcmeFake}. */
export interface AcmeFakeOptions {
  /** The keys the fake accepts (Bearer). Default `[ACME_FAKE_KEY]`. */
  readonly validKeys?: Iterable<string>;
  /** Words that make a render fail with Acme's `content_blocked` 422. Default `['unsafe']`. */
  readonly unsafeWords?: readonly string[];
}

/** A running fake of the Acme Images API: `POST /v1/render` and `GET /v1/me`. */
export interface AcmeFake {
  /** `http://127.0.0.1:<port>`: the provider's `baseURL`. */
  readonly url: string;
  /** Requests per route name: `render`, `me`. */
  readonly counts: FakeHttpServer['counts'];
  /** Queues faults (`{ kind: 'status', status: 429, ... }`, `{ kind: 'hang' }`...) for a route name. */
  readonly inject: FakeHttpServer['inject'];
  close(): Promise<void>;
}

const acmeError = (status: number, code: string, message: string): FakeResponse => ({
  status,
  body: { error: { code, message } },
});

/** A real RGB PNG of `width`x`height`: a vertical gradient whose colours come from the prompt. */
export function renderGradientPng(width: number, height: number, prompt: string): Buffer {
  let seed = 2166136261;
  for (const char of prompt) seed = Math.imul(seed ^ (char.codePointAt(0) ?? 0), 16777619) >>> 0;
  const top = [seed & 0xff, (seed >>> 8) & 0xff, (seed >>> 16) & 0xff];
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const t = height === 1 ? 0 : y / (height - 1);
    const color = top.map((c) => Math.round(c + (255 - 2 * c) * t));
    const start = y * (width * 3 + 1);
    raw[start] = 0; // filter: none
    for (let x = 0; x < width; x++) raw.set(color, start + 1 + x * 3);
  }
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 1 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * Starts a fake of the Acme Images API on loopback, on `startFakeHttpServer` from
 * `@vidgenie/nodes/testing`: Bearer keys are checked on every route (401 `invalid_key`), the
 * render answers a real PNG of the asked size in base64, unsafe prompts get a 422
 * `content_blocked`, and faults are injected per route.
 */
export async function startAcmeFake(options: AcmeFakeOptions = {}): Promise<AcmeFake> {
  const validKeys = new Set(options.validKeys ?? [ACME_FAKE_KEY]);
  const unsafeWords = (options.unsafeWords ?? ['unsafe']).map((word) => word.toLowerCase());

  const unauthorized = (request: FakeRequest): FakeResponse | undefined => {
    const header = request.headers.authorization;
    const key = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (validKeys.has(key)) return undefined;
    return acmeError(401, 'invalid_key', key === '' ? 'Missing API key.' : 'This API key is not valid.');
  };

  const server = await startFakeHttpServer([
    {
      method: 'GET',
      path: '/v1/me',
      name: 'me',
      handle: (request) => unauthorized(request) ?? { body: { account: 'acct_fake', credits: 1000 } },
    },
    {
      method: 'POST',
      path: '/v1/render',
      name: 'render',
      handle(request) {
        const denied = unauthorized(request);
        if (denied !== undefined) return denied;
        const body = request.json() as Record<string, unknown> | undefined;
        const { prompt, width, height } = body ?? {};
        if (typeof prompt !== 'string' || prompt.trim() === '') {
          return acmeError(400, 'invalid_request', '`prompt` is required.');
        }
        const valid = (side: unknown): side is number =>
          typeof side === 'number' && Number.isInteger(side) && side >= 64 && side <= 2048;
        if (!valid(width) || !valid(height)) {
          return acmeError(400, 'invalid_request', '`width` and `height` must be integers in [64, 2048].');
        }
        const lower = prompt.toLowerCase();
        if (unsafeWords.some((word) => lower.includes(word))) {
          return acmeError(422, 'content_blocked', 'The prompt was blocked by our content policy.');
        }
        const png = renderGradientPng(width, height, prompt);
        return { body: { image: { base64: png.toString('base64'), mime_type: 'image/png', width, height } } };
      },
    },
  ]);
  return {
    url: server.url,
    counts: server.counts,
    inject: (route, ...faults) => server.inject(route, ...faults),
    close: () => server.close(),
  };
}

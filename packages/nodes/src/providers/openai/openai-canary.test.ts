import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type RunEvent } from '@vidgenie/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFsBlobStore } from '../../blob/fs-blob-store.ts';
import { createFfmpegMediaTools } from '../../media/ffmpeg-media-tools.ts';
import { createShortVideoRegistry } from '../../nodes/create-short-video-registry.ts';
import { createProviderRegistry } from '../../provider/provider-registry.ts';
import type { ProviderCallContext } from '../../provider/provider-types.ts';
import type { FakeFault } from '../../testing/fakes/fake-http-server.ts';
import { type OpenAiFake, openAiFaults, startOpenAiFake } from '../../testing/fakes/openai-fake.ts';
import { localProviders } from '../local/local-providers.ts';
import { createOpenAiImageProvider } from './openai-image-provider.ts';
import { createOpenAiTextProvider } from './openai-text-provider.ts';

/** A key that must never leave the provider call: not in errors, causes, progress or run events. */
const CANARY = `sk-canary-${randomUUID()}`;

let accepting: OpenAiFake; // accepts the canary
let rejecting: OpenAiFake; // rejects it, echoing it whole in its 401 message
let root: string;

beforeAll(async () => {
  accepting = await startOpenAiFake({ validKeys: [CANARY], unsafeWords: ['forbidden'] });
  rejecting = await startOpenAiFake({ validKeys: [], echoKeyInErrors: true });
  root = await mkdtemp(join(tmpdir(), 'vidgenie-openai-canary-'));
});
afterAll(async () => {
  await Promise.all([accepting.close(), rejecting.close()]);
  await rm(root, { recursive: true, force: true });
});

/** Everything an error exposes: message, JSON, details, and its causes' messages, stacks and fields. */
function exposed(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current !== undefined && current !== null; depth++) {
    if (current instanceof Error) {
      parts.push(current.message, current.stack ?? '', String(current));
      const details = (current as { details?: () => unknown }).details;
      if (typeof details === 'function') parts.push(JSON.stringify(details.call(current)) ?? '');
    }
    try {
      parts.push(JSON.stringify(current) ?? '');
    } catch {
      parts.push('[unserialisable]');
    }
    if (typeof current === 'object') {
      for (const value of Object.values(current as object)) {
        if (typeof value === 'string') parts.push(value);
        else if (value !== null && typeof value === 'object' && !(value instanceof Headers)) {
          try {
            parts.push(JSON.stringify(value) ?? '');
          } catch {
            parts.push('[unserialisable]');
          }
        }
      }
    }
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join('\n');
}

function context<T>(
  config: T,
  progress: string[],
  signal = new AbortController().signal,
): ProviderCallContext<T> {
  return {
    config,
    apiKey: CANARY,
    signal,
    progress: (fraction, message) => progress.push(`${fraction} ${message ?? ''}`),
  };
}

/** A fault whose OpenAI message quotes the key, as a worst-case upstream would. */
const leaky = `Request with key ${CANARY} failed`;

describe('the OpenAI key never leaks (canary)', () => {
  it('is absent from every error, cause and progress message of both providers', async () => {
    const text = createOpenAiTextProvider({ baseURL: accepting.baseURL, timeoutMs: 100 });
    const image = createOpenAiImageProvider({ baseURL: accepting.baseURL, timeoutMs: 100 });
    const progress: string[] = [];
    const failures: unknown[] = [];
    const textFaults: FakeFault[] = [
      openAiFaults.invalidKey({ message: `Incorrect API key provided: ${CANARY}.` }),
      openAiFaults.permissionDenied({ message: leaky }),
      openAiFaults.insufficientQuota({ message: leaky }),
      openAiFaults.rateLimited({ retryAfterSeconds: 0, message: leaky }),
      openAiFaults.badRequest({ message: leaky }),
      openAiFaults.badRequest({ status: 404, message: leaky }),
      openAiFaults.serverError({ message: leaky }),
      openAiFaults.serverError({ status: 503, message: leaky }),
      { kind: 'malformed' },
      { kind: 'hang' },
      { kind: 'status', status: 200, body: { error: leaky } },
      {
        kind: 'status',
        status: 200,
        body: { choices: [{ finish_reason: 'stop', message: { content: null, refusal: leaky } }] },
      },
    ];
    for (const fault of textFaults) {
      accepting.inject('chat.completions', fault);
      failures.push(
        await text
          .generate({ prompt: 'a fox' }, context(text.config.parse({}), progress))
          .catch((e: unknown) => e),
      );
    }
    const imageFaults: FakeFault[] = [
      openAiFaults.moderationBlocked({ message: leaky }),
      openAiFaults.contentPolicy({ message: leaky }),
      openAiFaults.rateLimited({ retryAfterMs: 5, message: leaky }),
      { kind: 'status', status: 200, body: { data: [{ b64_json: Buffer.from(leaky).toString('base64') }] } },
    ];
    for (const fault of imageFaults) {
      accepting.inject('images.generate', fault);
      failures.push(
        await image
          .generate(
            { prompt: 'a fox', size: 'small', aspectRatio: '9:16' },
            context(image.config.parse({}), progress),
          )
          .catch((e: unknown) => e),
      );
    }
    // The fake's own refusals: an unsafe prompt, and the canary rejected (echoed whole by the fake).
    failures.push(
      await image
        .generate(
          { prompt: 'forbidden', size: 'small', aspectRatio: '1:1' },
          context(image.config.parse({}), progress),
        )
        .catch((e: unknown) => e),
    );
    failures.push(
      await createOpenAiTextProvider({ baseURL: rejecting.baseURL })
        .generate({ prompt: 'a fox' }, context(text.config.parse({}), progress))
        .catch((e: unknown) => e),
    );
    // Nobody listening.
    const gone = await startOpenAiFake();
    await gone.close();
    failures.push(
      await createOpenAiTextProvider({ baseURL: gone.baseURL })
        .generate({ prompt: 'a fox' }, context(text.config.parse({}), progress))
        .catch((e: unknown) => e),
    );

    expect(failures).toHaveLength(textFaults.length + imageFaults.length + 3);
    const kinds = new Set<string>();
    for (const failure of failures) {
      expect(failure).toBeInstanceOf(Error);
      kinds.add(String((failure as { failure?: string }).failure));
      expect(exposed(failure)).not.toContain(CANARY);
      expect(exposed(failure)).not.toContain(CANARY.slice(10)); // not even the random part
    }
    expect([...kinds].sort()).toEqual([
      'bad_request',
      'content_rejected',
      'invalid_key',
      'malformed_response',
      'quota_exhausted',
      'rate_limited',
      'timeout',
      'unavailable',
    ]);
    // The scrubbing kept the rest of OpenAI's reason.
    expect(failures.map((f) => (f as Error).message)).toContain(
      'OpenAI rejected the request: Request with key [redacted] failed.',
    );
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.join('\n')).not.toContain(CANARY);
  });

  it('is absent from key validation reasons', async () => {
    const signal = new AbortController().signal;
    const provider = createOpenAiTextProvider({ baseURL: accepting.baseURL });
    accepting.inject(
      'models.list',
      openAiFaults.permissionDenied({ message: leaky }),
      openAiFaults.badRequest({ message: leaky }),
      openAiFaults.serverError({ message: leaky }),
    );
    const reasons = [
      await provider.validateKey!(CANARY, { signal }),
      await provider.validateKey!(CANARY, { signal }),
      await provider.validateKey!(CANARY, { signal }),
      await createOpenAiTextProvider({ baseURL: rejecting.baseURL }).validateKey!(CANARY, { signal }),
    ];
    expect(reasons.every((r) => !r.valid)).toBe(true);
    expect(JSON.stringify(reasons)).not.toContain(CANARY);
    expect(JSON.stringify(reasons)).toContain('[redacted]'); // the 400's reason, scrubbed
  });
});

describe('through the engine (short-video registry, secrets resolver)', () => {
  const media = createFfmpegMediaTools();

  function engineFor(baseURL: string) {
    const providers = createProviderRegistry([
      ...localProviders(),
      createOpenAiTextProvider({ baseURL }),
      createOpenAiImageProvider({ baseURL }),
    ]);
    const secretsAsked: string[] = [];
    const engine = createEngine({
      registry: createShortVideoRegistry({ providers }),
      services: { blobs: createFsBlobStore({ root }), media },
      secrets: ({ name }) => {
        secretsAsked.push(name);
        return name === 'openai' ? CANARY : undefined;
      },
      retry: { initialDelayMs: 1, maxDelayMs: 20, jitter: 0 },
    });
    return { engine, secretsAsked };
  }

  /** prompt → enhance (OpenAI) → image (OpenAI): the OpenAI nodes without the video render. */
  const graph = (prompt: string) => ({
    version: 1,
    nodes: [
      { id: 'prompt', type: 'prompt', config: { text: prompt } },
      { id: 'enhance', type: 'enhance', config: { provider: 'openai-text' } },
      {
        id: 'image',
        type: 'image',
        config: { provider: 'openai-image', size: 'small', aspectRatio: '9:16' },
      },
    ],
    edges: [
      { id: 'a', source: 'prompt', sourceHandle: 'prompt', target: 'enhance', targetHandle: 'prompt' },
      { id: 'b', source: 'enhance', sourceHandle: 'prompt', target: 'image', targetHandle: 'prompt' },
    ],
  });

  async function run(baseURL: string, input: unknown) {
    const { engine, secretsAsked } = engineFor(baseURL);
    const events: RunEvent[] = [];
    const outcome = await engine.run(input, { onEvent: (event) => events.push(event) });
    return { outcome, events, secretsAsked, all: JSON.stringify(events) + JSON.stringify(outcome) };
  }

  it('enhances and draws with the key from the resolver, which appears in no event', async () => {
    const { outcome, events, secretsAsked, all } = await run(
      accepting.baseURL,
      graph('a red fox in the snow'),
    );
    if (outcome.status !== 'completed') throw new Error(`Run ${outcome.status}: ${JSON.stringify(outcome)}`);
    expect(secretsAsked).toEqual(['openai', 'openai']);
    expect(outcome.outputs.enhance).toMatchObject({
      model: 'gpt-5.4-mini',
      original: 'a red fox in the snow',
    });
    expect(outcome.outputs.image).toMatchObject({
      image: { width: 1024, height: 1536, mimeType: 'image/png' },
    });
    expect(events.some((e) => e.type === 'node.progress')).toBe(true);
    expect(all).not.toContain(CANARY);
    expect(accepting.log.filter((l) => l.authorization === `Bearer ${CANARY}`).length).toBeGreaterThanOrEqual(
      2,
    );
  });

  it('fails a rejected key at once (attempt 1, no retry) with the Settings message, leaking nothing', async () => {
    const calls = rejecting.counts.get('chat.completions') ?? 0;
    const { outcome, events, all } = await run(rejecting.baseURL, graph('a red fox in the snow'));
    expect(outcome.status).toBe('failed');
    const failed = events.filter((e) => e.type === 'node.failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      nodeId: 'enhance',
      attempt: 1,
      error: {
        message: 'Your OpenAI key was rejected: check it in Settings.',
        retryable: false,
        details: { failure: 'invalid_key', providerId: 'openai-text' },
      },
    });
    expect(events.filter((e) => e.type === 'node.retrying')).toEqual([]);
    expect(events.find((e) => e.type === 'node.skipped')).toMatchObject({
      nodeId: 'image',
      reason: 'upstream-failed',
    });
    expect(rejecting.counts.get('chat.completions')).toBe(calls + 1);
    expect(all).not.toContain(CANARY);
  });

  it('retries a 429 after its Retry-After and a 500, then succeeds; a refused image fails at once', async () => {
    accepting.inject(
      'chat.completions',
      openAiFaults.rateLimited({ retryAfterSeconds: 0, message: leaky }),
      openAiFaults.serverError({ message: leaky }),
    );
    accepting.inject('images.generate', openAiFaults.moderationBlocked({ message: `${leaky}.` }));
    const { outcome, events, all } = await run(accepting.baseURL, graph('a lighthouse'));
    expect(outcome.status).toBe('failed');
    const retrying = events.filter((e) => e.type === 'node.retrying');
    expect(retrying).toMatchObject([
      {
        nodeId: 'enhance',
        attempt: 1,
        delayMs: 0,
        error: { details: { failure: 'rate_limited', afterMs: 0 } },
      },
      { nodeId: 'enhance', attempt: 2, error: { retryable: true, details: { failure: 'unavailable' } } },
    ]);
    expect(events.find((e) => e.type === 'node.completed' && e.nodeId === 'enhance')).toMatchObject({
      attempt: 3,
    });
    expect(events.find((e) => e.type === 'node.failed')).toMatchObject({
      nodeId: 'image',
      attempt: 1,
      error: {
        message:
          'OpenAI Images refused this request: Request with key [redacted] failed. Rephrase the prompt and try again.',
        details: { failure: 'content_rejected' },
      },
    });
    expect(all).not.toContain(CANARY);
  });
});

import { rm, stat } from 'node:fs/promises';
import type { ImageSize } from '../provider/pricing.ts';
import type {
  AspectRatio,
  ImageRequest,
  ImageResult,
  Provider,
  ProviderCallContext,
  TextRequest,
  VideoDuration,
  VideoRequest,
} from '../provider/provider-types.ts';
import { localImageProvider } from '../providers/local/local-image-provider.ts';

/** The test functions of a runner (Vitest, Jest, node:test all fit). */
export interface ProviderConformanceRunner {
  describe(name: string, body: () => void): void;
  it(name: string, body: () => Promise<void>): void;
}

/** Keys for providers that need one: values that work against your fake (or the real API). */
export interface ProviderConformanceKeys {
  /** A key the provider accepts. */
  readonly valid: string;
  /** A key the provider refuses. */
  readonly invalid: string;
  /**
   * A key that must never show up in errors or progress messages. Default: a fresh random
   * `canary-…` value (so a fake refuses it, and the provider's error path is checked).
   */
  readonly canary?: string;
}

/** How the suite calls `generate`: the request fields and the config to use. */
export interface ProviderConformanceHarness {
  /**
   * Request fields overriding the small, cheap defaults: text `{ prompt }`; image
   * `{ prompt, size: 'small', aspectRatio: '9:16' }`; video `{ prompt, image, durationSeconds: 8,
   * motion: 'low', aspectRatio: '9:16' }` from a small PNG of the local image provider.
   */
  readonly request?: Partial<TextRequest> | Partial<ImageRequest> | Partial<Omit<VideoRequest, 'state'>>;
  /** The config input, parsed with the provider's schema. Default `{}`. */
  readonly config?: Readonly<Record<string, unknown>>;
}

/** What every conformance case receives. */
export interface ProviderConformanceSubject {
  readonly provider: Provider;
  readonly key?: ProviderConformanceKeys;
  readonly harness?: ProviderConformanceHarness;
}

/** One conformance case: a name and a check that throws when the provider misbehaves. */
export interface ProviderConformanceCase {
  readonly name: string;
  run(subject: ProviderConformanceSubject): Promise<void>;
}

/**
 * Registers the provider conformance suite with a test runner: identity, key declaration, config
 * defaults, capabilities, prices, a small `generate` (well-formed result, progress in [0, 1] and
 * non-decreasing), an already-aborted signal, key validation, and that the key never leaks into
 * errors or progress messages. Every provider (the built-in ones, yours) should pass it, usually
 * against a fake of its API. `createProvider` is called once per case. Providers that are not
 * local need `key`.
 *
 * @example
 * ```ts
 * import { describe, it } from 'vitest';
 * import { localProviders } from '@vidgenie/nodes';
 * import { describeProviderConformance } from '@vidgenie/nodes/testing';
 * for (const provider of localProviders()) {
 *   describeProviderConformance({ name: provider.id, createProvider: () => provider, describe, it });
 * }
 * ```
 */
export function describeProviderConformance(
  args: ProviderConformanceRunner & {
    readonly name: string;
    readonly createProvider: () => Provider | Promise<Provider>;
    readonly key?: ProviderConformanceKeys;
    readonly harness?: ProviderConformanceHarness;
  },
): void {
  args.describe(`Provider conformance: ${args.name}`, () => {
    for (const c of providerConformanceCases()) {
      args.it(c.name, async () =>
        c.run({
          provider: await args.createProvider(),
          ...(args.key === undefined ? {} : { key: args.key }),
          ...(args.harness === undefined ? {} : { harness: args.harness }),
        }),
      );
    }
  });
}

/** The conformance cases, for runners that want to drive them directly. */
export function providerConformanceCases(): readonly ProviderConformanceCase[] {
  return CASES;
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`Provider conformance: ${message}`);
}

const isNonEmptyString = (value: unknown): value is string =>
  typeof value === 'string' && value.trim() !== '';
const PROMPT = 'a red fox in the snow at dawn';
const ASPECT_RATIOS: readonly AspectRatio[] = ['9:16', '1:1', '16:9'];
const IMAGE_SIZES: readonly ImageSize[] = ['small', 'medium', 'large'];
const DURATIONS: readonly VideoDuration[] = [8, 15, 30, 60];

/** A call context recording progress reports. */
function recordingContext(
  provider: Provider,
  subject: ProviderConformanceSubject,
  args: { readonly apiKey: string | undefined; readonly signal?: AbortSignal },
): ProviderCallContext<unknown> & {
  readonly fractions: number[];
  readonly messages: string[];
} {
  const fractions: number[] = [];
  const messages: string[] = [];
  return {
    config: provider.config.parse(subject.harness?.config ?? {}),
    apiKey: args.apiKey,
    signal: args.signal ?? new AbortController().signal,
    progress(fraction, message) {
      fractions.push(fraction);
      if (message !== undefined) messages.push(message);
    },
    fractions,
    messages,
  };
}

/** The key for a normal call: the valid one, or none for local providers. */
function callKey(subject: ProviderConformanceSubject): string | undefined {
  if (subject.provider.local) return subject.key?.valid;
  check(
    subject.key !== undefined,
    `provider "${subject.provider.id}" is not local: pass key: { valid, invalid } to the suite`,
  );
  return subject.key.valid;
}

let smallImage: Promise<ImageResult> | undefined;
/** A small 9:16 PNG from the local image provider, made once. */
function firstFrame(): Promise<ImageResult> {
  smallImage ??= localImageProvider.generate(
    { prompt: PROMPT, size: 'small', aspectRatio: '9:16' },
    { config: {}, apiKey: undefined, signal: new AbortController().signal, progress: () => {} },
  );
  return smallImage;
}

/** Calls `generate` with the harness's request (or the small defaults) and returns what it gave. */
async function generate(
  subject: ProviderConformanceSubject,
  ctx: ProviderCallContext<unknown>,
): Promise<{ readonly kind: Provider['kind']; readonly result: unknown; readonly request: unknown }> {
  const provider = subject.provider;
  const overrides = (subject.harness?.request ?? {}) as Record<string, unknown>;
  switch (provider.kind) {
    case 'text': {
      const request = { prompt: PROMPT, ...overrides } as TextRequest;
      return { kind: 'text', request, result: await provider.generate(request, ctx as never) };
    }
    case 'image': {
      const request = { prompt: PROMPT, size: 'small', aspectRatio: '9:16', ...overrides } as ImageRequest;
      return { kind: 'image', request, result: await provider.generate(request, ctx as never) };
    }
    case 'video': {
      let stored: unknown;
      const request = {
        prompt: PROMPT,
        durationSeconds: 8,
        motion: 'low',
        aspectRatio: '9:16',
        ...overrides,
        image: (overrides.image as ImageResult | undefined) ?? (await firstFrame()),
        state: {
          get: () => stored,
          set: async (value: unknown) => {
            stored = value;
          },
        },
      } as VideoRequest;
      return { kind: 'video', request, result: await provider.generate(request, ctx as never) };
    }
  }
}

/** Width and height from a PNG's IHDR or a JPEG's SOF marker; undefined for other bytes. */
function encodedImageSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length >= 24 && png.every((byte, i) => bytes[i] === byte)) {
    return { width: view.getUint32(16), height: view.getUint32(20) };
  }
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) {
    let offset = 2;
    while (offset + 9 < bytes.length) {
      if (bytes[offset] !== 0xff) return undefined;
      const marker = bytes[offset + 1] ?? 0;
      const length = view.getUint16(offset + 2);
      const isFrame = marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker);
      if (isFrame) return { width: view.getUint16(offset + 7), height: view.getUint16(offset + 5) };
      offset += 2 + length;
    }
  }
  return undefined;
}

/** The texts an error exposes: its message, its JSON, and the same for its causes. */
function errorTexts(error: unknown): string[] {
  const texts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    texts.push(String(current));
    if (current instanceof Error) texts.push(current.message);
    try {
      texts.push(JSON.stringify(current) ?? '');
    } catch {
      // Circular: the message and String() above are what a log would show.
    }
    const details = (current as { details?: unknown }).details;
    if (typeof details === 'function') {
      try {
        texts.push(JSON.stringify(details.call(current)) ?? '');
      } catch {
        // Not ours to judge.
      }
    }
    current = (current as { cause?: unknown }).cause;
  }
  return texts;
}

function checkProgress(fractions: readonly number[]): void {
  let previous = -Infinity;
  for (const fraction of fractions) {
    check(
      Number.isFinite(fraction) && fraction >= 0 && fraction <= 1,
      `progress ${fraction} is outside [0, 1] (reports: ${fractions.join(', ')})`,
    );
    check(fraction >= previous, `progress went back from ${previous} to ${fraction}`);
    previous = fraction;
  }
}

async function checkResult(kind: Provider['kind'], result: unknown): Promise<void> {
  check(typeof result === 'object' && result !== null, `generate returned ${String(result)}`);
  const r = result as Record<string, unknown>;
  switch (kind) {
    case 'text':
      check(isNonEmptyString(r.text), 'the text result is empty');
      check(
        typeof r.tokensUsed === 'number' && Number.isFinite(r.tokensUsed) && r.tokensUsed >= 0,
        `tokensUsed ${String(r.tokensUsed)} is not a non-negative number`,
      );
      check(isNonEmptyString(r.model), 'the text result names no model');
      return;
    case 'image': {
      check(r.bytes instanceof Uint8Array && r.bytes.length > 0, 'the image result has no bytes');
      check(isNonEmptyString(r.mimeType), 'the image result has no mimeType');
      const size = encodedImageSize(r.bytes);
      check(size !== undefined, `the image bytes are neither a PNG nor a JPEG (mimeType ${r.mimeType})`);
      check(
        size.width === r.width && size.height === r.height,
        `the image says ${String(r.width)}x${String(r.height)} but its header says ${size.width}x${size.height}`,
      );
      check(
        (r.mimeType === 'image/png') === (r.bytes[0] === 0x89),
        `mimeType ${r.mimeType} does not match the bytes`,
      );
      return;
    }
    case 'video': {
      check(isNonEmptyString(r.path), 'the video result has no path');
      const info = await stat(r.path).catch(() => undefined);
      try {
        check(
          info?.isFile() === true && info.size > 0,
          `the video file ${r.path} does not exist or is empty`,
        );
        check(
          typeof r.durationSeconds === 'number' &&
            Number.isFinite(r.durationSeconds) &&
            r.durationSeconds > 0,
          `video duration ${String(r.durationSeconds)} is not positive`,
        );
        check(
          typeof r.width === 'number' && r.width > 0 && typeof r.height === 'number' && r.height > 0,
          `video size ${String(r.width)}x${String(r.height)} is not positive`,
        );
        check(isNonEmptyString(r.mimeType), 'the video result has no mimeType');
      } finally {
        await rm(r.path, { force: true });
      }
      return;
    }
  }
}

/** Removes a video file a call may have left behind. */
async function discard(kind: Provider['kind'], result: unknown): Promise<void> {
  const path = (result as { path?: unknown } | undefined)?.path;
  if (kind === 'video' && typeof path === 'string') await rm(path, { force: true });
}

const nonEmpty = (list: unknown, what: string) =>
  check(Array.isArray(list) && list.length > 0, `capabilities.${what} is empty`);

const CASES: readonly ProviderConformanceCase[] = [
  {
    name: 'declares a valid id, display name, kind and local flag, and a key when not local',
    async run({ provider }) {
      check(
        typeof provider.id === 'string' && /^[a-z0-9][a-z0-9-]*$/.test(provider.id),
        `id "${String(provider.id)}" must be lowercase letters, digits and dashes`,
      );
      check(isNonEmptyString(provider.displayName), 'displayName is empty');
      check(['text', 'image', 'video'].includes(provider.kind), `kind "${String(provider.kind)}" is unknown`);
      check(typeof provider.local === 'boolean', 'local must be a boolean');
      if (provider.local) return;
      check(provider.key !== undefined, 'a provider that is not local must declare its key');
      check(isNonEmptyString(provider.key.secret), 'key.secret is empty');
      check(isNonEmptyString(provider.key.label), 'key.label is empty');
    },
  },
  {
    name: 'its config schema parses {} (every field has a default or is optional)',
    async run({ provider }) {
      const parsed = provider.config.safeParse({});
      check(parsed.success, `config.parse({}) failed: ${parsed.error?.message ?? ''}`);
    },
  },
  {
    name: 'declares capabilities coherent with its kind',
    async run({ provider }) {
      if (provider.kind === 'image') {
        const { sizes, aspectRatios } = provider.capabilities;
        nonEmpty(sizes, 'sizes');
        nonEmpty(aspectRatios, 'aspectRatios');
        for (const size of sizes) check(IMAGE_SIZES.includes(size), `unknown image size "${size}"`);
        for (const ratio of aspectRatios)
          check(ASPECT_RATIOS.includes(ratio), `unknown aspect ratio "${ratio}"`);
      } else if (provider.kind === 'video') {
        const { durations, aspectRatios, resolutions, maxClipSeconds } = provider.capabilities;
        nonEmpty(durations, 'durations');
        nonEmpty(aspectRatios, 'aspectRatios');
        nonEmpty(resolutions, 'resolutions');
        for (const duration of durations)
          check(DURATIONS.includes(duration), `unknown video duration ${duration}`);
        for (const ratio of aspectRatios)
          check(ASPECT_RATIOS.includes(ratio), `unknown aspect ratio "${ratio}"`);
        for (const resolution of resolutions)
          check(/^\d+x\d+$/.test(resolution), `resolution "${resolution}" is not WIDTHxHEIGHT`);
        check(
          typeof maxClipSeconds === 'number' && Number.isFinite(maxClipSeconds) && maxClipSeconds > 0,
          `maxClipSeconds ${String(maxClipSeconds)} must be positive`,
        );
      }
    },
  },
  {
    name: 'prices everything it offers in whole, non-negative credits',
    async run({ provider }) {
      const checkPrice = (price: unknown, what: string) =>
        check(
          typeof price === 'number' && Number.isInteger(price) && price >= 0,
          `price for ${what} is ${String(price)}, not a non-negative integer`,
        );
      switch (provider.kind) {
        case 'text':
          checkPrice(provider.price(), 'a call');
          return;
        case 'image':
          for (const size of provider.capabilities.sizes)
            checkPrice(provider.price({ size }), `size ${size}`);
          return;
        case 'video':
          for (const durationSeconds of provider.capabilities.durations)
            checkPrice(provider.price({ durationSeconds }), `${durationSeconds} s`);
          return;
      }
    },
  },
  {
    name: 'generate returns a well-formed result and reports progress in [0, 1], never going back',
    async run(subject) {
      const ctx = recordingContext(subject.provider, subject, { apiKey: callKey(subject) });
      const { kind, result, request } = await generate(subject, ctx);
      checkProgress(ctx.fractions);
      if (kind === 'video') {
        const asked = (request as VideoRequest).durationSeconds;
        check(asked > 0, `the harness asked for ${asked} s`);
        check(
          subject.provider.kind === 'video' && asked <= subject.provider.capabilities.maxClipSeconds,
          `the harness asked for ${asked} s, more than maxClipSeconds`,
        );
      }
      await checkResult(kind, result);
    },
  },
  {
    name: 'rejects promptly (< 2 s) when the signal is already aborted',
    async run(subject) {
      const reason = new Error('conformance: aborted before the call');
      const ctx = recordingContext(subject.provider, subject, {
        apiKey: callKey(subject),
        signal: AbortSignal.abort(reason),
      });
      const started = performance.now();
      let outcome: { result: unknown } | undefined;
      try {
        const { result } = await generate(subject, ctx);
        outcome = { result };
      } catch {
        // Expected.
      }
      const ms = performance.now() - started;
      if (outcome !== undefined) await discard(subject.provider.kind, outcome.result);
      check(outcome === undefined, 'generate resolved although its signal was already aborted');
      check(ms < 2_000, `generate took ${ms.toFixed(0)} ms to reject an aborted signal`);
    },
  },
  {
    name: 'validateKey accepts the valid key and refuses a wrong one with a reason',
    async run({ provider, key }) {
      if (provider.local && key === undefined) return;
      check(key !== undefined, `provider "${provider.id}" is not local: pass key: { valid, invalid }`);
      check(typeof provider.validateKey === 'function', 'a provider with a key must implement validateKey');
      const signal = new AbortController().signal;
      const good = await provider.validateKey(key.valid, { signal });
      check(
        good.valid,
        `the valid key was refused: ${good.valid ? '' : (good as { reason: string }).reason}`,
      );
      const bad = await provider.validateKey(key.invalid, { signal });
      check(!bad.valid, 'the invalid key was reported valid');
      check(isNonEmptyString(bad.reason), 'a refused key needs a non-empty reason');
      check(!bad.reason.includes(key.invalid), 'the refusal reason contains the key');
    },
  },
  {
    name: 'never shows the key in errors or progress messages',
    async run(subject) {
      const { provider, key } = subject;
      const canary = key?.canary ?? `canary-${globalThis.crypto.randomUUID()}`;
      const leaks = (text: string) => text.includes(canary);
      const ctx = recordingContext(provider, subject, { apiKey: canary });
      try {
        const { result } = await generate(subject, ctx);
        await discard(provider.kind, result);
      } catch (error) {
        for (const text of errorTexts(error)) check(!leaks(text), `an error shows the key: ${text}`);
      }
      for (const message of ctx.messages)
        check(!leaks(message), `a progress message shows the key: ${message}`);
      if (typeof provider.validateKey === 'function') {
        try {
          const validation = await provider.validateKey(canary, { signal: new AbortController().signal });
          if (!validation.valid)
            check(!leaks(validation.reason), `validateKey's reason shows the key: ${validation.reason}`);
        } catch (error) {
          for (const text of errorTexts(error))
            check(!leaks(text), `validateKey's error shows the key: ${text}`);
        }
      }
      if (key === undefined) return;
      // With the valid key too: progress messages must not echo it.
      const valid = recordingContext(provider, subject, { apiKey: key.valid });
      try {
        const { result } = await generate(subject, valid);
        await discard(provider.kind, result);
      } catch (error) {
        for (const text of errorTexts(error))
          check(!text.includes(key.valid), `an error shows the key: ${text}`);
      }
      for (const message of valid.messages)
        check(!message.includes(key.valid), `a progress message shows the key: ${message}`);
    },
  },
];

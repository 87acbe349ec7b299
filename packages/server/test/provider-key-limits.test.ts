import { randomBytes } from 'node:crypto';
import {
  createOpenAiTextProvider,
  createProviderRegistry,
  createStabilityImageProvider,
  defineProvider,
  localProviders,
  ProviderRateLimitedError,
  type ProviderRegistry,
  providerError,
  type TextProvider,
  type VideoProvider,
} from '@vidgenie/nodes';
import {
  OPENAI_FAKE_KEY,
  type OpenAiFake,
  type StabilityFake,
  startOpenAiFake,
  startStabilityFake,
} from '@vidgenie/nodes/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import type { KeyBackoffState, KeyBackoffStore } from '../src/providers/key-backoff-store.ts';
import {
  limitProviderKeys,
  type ProviderKeyLimitsLog,
  type ProviderKeyLimitsOptions,
} from '../src/providers/limit-provider-keys.ts';
import { createMemoryKeyBackoffStore } from '../src/providers/memory-key-backoff-store.ts';
import { providerKeyHash } from '../src/providers/provider-key-hash.ts';
import { createSqlKeyBackoffStore } from '../src/providers/sql-key-backoff-store.ts';
import { countStatements } from './support/count-statements.ts';
import { createTestApp } from './support/test-app.ts';
import { describeEachDatabase } from './support/test-databases.ts';

const KEY = 'sk-test-key-aaaa';
const OTHER_KEY = 'sk-test-key-bbbb';

/** A text call the test ends by hand. */
interface Started {
  readonly prompt: string;
  readonly key: string | undefined;
  resolve(): void;
  reject(error: unknown): void;
}

/** A hosted text provider whose calls wait until the test ends them; counts calls in flight. */
function gatedTextProvider(id = 'gated-text') {
  const started: Started[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const provider = defineProvider({
    id,
    displayName: 'Gated',
    kind: 'text',
    local: false,
    key: { secret: id, label: 'Gated key' },
    config: z.object({}),
    price: () => 1,
    generate: ({ prompt }, ctx) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      return new Promise((resolve, reject) => {
        started.push({
          prompt,
          key: ctx.apiKey,
          resolve: () => {
            inFlight--;
            resolve({ text: `done: ${prompt}`, tokensUsed: 1, model: 'gated' });
          },
          reject: (error) => {
            inFlight--;
            reject(error);
          },
        });
      });
    },
  });
  return {
    provider,
    started,
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
  };
}

const rateLimited = (id: string, retryAfterMs = 0) =>
  providerError({ provider: { id, displayName: 'Gated' }, failure: 'rate_limited', retryAfterMs });

const callCtx = (apiKey: string | undefined, signal = new AbortController().signal) => ({
  config: {},
  apiKey,
  signal,
  progress: () => {},
});

/** A store that records every answer it reads. */
function spyStore(store: KeyBackoffStore) {
  const reads: KeyBackoffState[] = [];
  return {
    reads,
    store: {
      ...store,
      read: async (keyHash: string) => {
        const state = await store.read(keyHash);
        reads.push(state);
        return state;
      },
    } satisfies KeyBackoffStore,
  };
}

/** Back-offs of a few ms, without jitter, so a frozen fake clock holds them as long as it likes. */
const shortBackoff = { initialMs: 20, factor: 2, maxMs: 10_000, jitter: 0 } as const;

function textOf(providers: ProviderRegistry, id = 'gated-text'): TextProvider {
  return providers.get('text', id);
}

/** Lets pending promise callbacks and a timer turn run (for "has not happened" checks after a `waitFor`). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('per-key concurrency', () => {
  it('never runs more than N calls of one key at once, and serves them first come, first served', async () => {
    const gated = gatedTextProvider();
    const providers = limitProviderKeys(createProviderRegistry([gated.provider]), {
      concurrency: { byKind: { text: 3 } },
    });
    const calls = Array.from({ length: 12 }, (_, i) =>
      textOf(providers).generate({ prompt: `p${i}` }, callCtx(KEY)),
    );
    await vi.waitFor(() => expect(gated.started).toHaveLength(3));
    await settle();
    expect(gated.started.map((call) => call.prompt)).toEqual(['p0', 'p1', 'p2']);
    for (let done = 0; done < 12; done++) {
      gated.started[done]!.resolve();
      const expected = Math.min(12, done + 4);
      await vi.waitFor(() => expect(gated.started).toHaveLength(expected));
      expect(gated.inFlight).toBeLessThanOrEqual(3);
    }
    expect((await Promise.all(calls)).map((result) => result.text)).toEqual(
      Array.from({ length: 12 }, (_, i) => `done: p${i}`),
    );
    expect(gated.started.map((call) => call.prompt)).toEqual(Array.from({ length: 12 }, (_, i) => `p${i}`));
    expect(gated.maxInFlight).toBe(3);
  });

  it('uses the defaults (text 8), and a per-provider limit over its kind', async () => {
    const defaults = gatedTextProvider();
    const byDefault = limitProviderKeys(createProviderRegistry([defaults.provider]));
    const many = Array.from({ length: 20 }, () => textOf(byDefault).generate({ prompt: 'x' }, callCtx(KEY)));
    await vi.waitFor(() => expect(defaults.started).toHaveLength(8));
    await settle();
    expect(defaults.started).toHaveLength(8);
    for (let i = 0; i < 20; i++) {
      await vi.waitFor(() => expect(defaults.started.length).toBeGreaterThan(i));
      defaults.started[i]!.resolve();
    }
    await Promise.all(many);
    expect(defaults.maxInFlight).toBe(8);

    const pinned = gatedTextProvider();
    const byId = limitProviderKeys(createProviderRegistry([pinned.provider]), {
      concurrency: { byKind: { text: 5 }, byProvider: { 'gated-text': 1 } },
    });
    const two = [1, 2].map(() => textOf(byId).generate({ prompt: 'x' }, callCtx(KEY)));
    await vi.waitFor(() => expect(pinned.started).toHaveLength(1));
    await settle();
    expect(pinned.started).toHaveLength(1);
    pinned.started[0]!.resolve();
    await vi.waitFor(() => expect(pinned.started).toHaveLength(2));
    pinned.started[1]!.resolve();
    await Promise.all(two);
  });

  it('refuses a limit below 1', () => {
    const registry = createProviderRegistry([gatedTextProvider().provider]);
    expect(() => limitProviderKeys(registry, { concurrency: { byKind: { text: 0 } } })).toThrow(RangeError);
    expect(() => limitProviderKeys(registry, { concurrency: { byProvider: { x: 1.5 } } })).toThrow(
      RangeError,
    );
  });

  it('does not let one key (or one provider) block another', async () => {
    const a = gatedTextProvider('gated-a');
    const b = gatedTextProvider('gated-b');
    const providers = limitProviderKeys(createProviderRegistry([a.provider, b.provider]), {
      concurrency: { byKind: { text: 1 } },
    });
    const first = textOf(providers, 'gated-a').generate({ prompt: 'a1' }, callCtx(KEY));
    const otherKey = textOf(providers, 'gated-a').generate({ prompt: 'a2' }, callCtx(OTHER_KEY));
    const otherProvider = textOf(providers, 'gated-b').generate({ prompt: 'b1' }, callCtx(KEY));
    const noKey = textOf(providers, 'gated-a').generate({ prompt: 'a3' }, callCtx(undefined));
    await vi.waitFor(() => expect(a.started).toHaveLength(3));
    await vi.waitFor(() => expect(b.started).toHaveLength(1));
    expect(a.started.map((call) => call.prompt).sort()).toEqual(['a1', 'a2', 'a3']);
    for (const call of [...a.started, ...b.started]) call.resolve();
    await Promise.all([first, otherKey, otherProvider, noKey]);
  });

  it('leaves local providers untouched', () => {
    const local = createProviderRegistry(localProviders());
    const limited = limitProviderKeys(local);
    for (const provider of local.list()) expect(limited.find(provider.kind, provider.id)).toBe(provider);
  });

  it('stops waiting at once when the call is aborted, giving up its place', async () => {
    const gated = gatedTextProvider();
    const providers = limitProviderKeys(createProviderRegistry([gated.provider]), {
      concurrency: { byKind: { text: 1 } },
    });
    const first = textOf(providers).generate({ prompt: 'first' }, callCtx(KEY));
    const controller = new AbortController();
    const cancelled = textOf(providers).generate({ prompt: 'cancelled' }, callCtx(KEY, controller.signal));
    const third = textOf(providers).generate({ prompt: 'third' }, callCtx(KEY));
    await vi.waitFor(() => expect(gated.started).toHaveLength(1));
    const reason = new Error('run cancelled');
    controller.abort(reason);
    await expect(cancelled).rejects.toBe(reason);
    gated.started[0]!.resolve();
    await vi.waitFor(() => expect(gated.started).toHaveLength(2));
    expect(gated.started.map((call) => call.prompt)).toEqual(['first', 'third']);
    gated.started[1]!.resolve();
    await Promise.all([first, third]);
    // An already aborted signal never waits, nor reaches the provider.
    const aborted = new AbortController();
    aborted.abort(reason);
    await expect(textOf(providers).generate({ prompt: 'late' }, callCtx(KEY, aborted.signal))).rejects.toBe(
      reason,
    );
    expect(gated.started).toHaveLength(2);
  });
});

describe('video: only submissions take a slot', () => {
  it('frees the slot once the job id is stored, and lets a resumed call poll without one', async () => {
    const gates: { submit: () => void; finish: () => void; resumed: boolean }[] = [];
    const video = defineProvider({
      id: 'gated-video',
      displayName: 'Gated video',
      kind: 'video',
      local: false,
      key: { secret: 'gated-video', label: 'Gated key' },
      config: z.object({}),
      capabilities: { durations: [8], aspectRatios: ['9:16'], resolutions: ['720x1280'], maxClipSeconds: 8 },
      price: () => 10,
      async generate(request) {
        const resumed = request.state.get() !== undefined;
        let submit = () => {};
        let finish = () => {};
        const submitted = new Promise<void>((resolve) => {
          submit = resolve;
        });
        const finished = new Promise<void>((resolve) => {
          finish = resolve;
        });
        gates.push({ submit, finish, resumed });
        if (!resumed) {
          await submitted;
          await request.state.set({ jobId: `job-${gates.length}` });
        }
        await finished; // polling
        return { path: '/tmp/x.mp4', mimeType: 'video/mp4', width: 720, height: 1280, durationSeconds: 8 };
      },
    }) as VideoProvider;
    const providers = limitProviderKeys(createProviderRegistry([video]), {
      concurrency: { byKind: { video: 1 } },
    });
    const state = (initial?: unknown) => {
      let value = initial;
      return {
        get: () => value,
        set: async (next: unknown) => {
          value = next;
        },
      };
    };
    const request = (initial?: unknown) => ({
      prompt: 'p',
      image: { bytes: new Uint8Array(), mimeType: 'image/png', width: 1, height: 1 },
      durationSeconds: 8,
      motion: 'low' as const,
      aspectRatio: '9:16' as const,
      state: state(initial),
    });
    const limited = providers.get('video', 'gated-video');
    const first = limited.generate(request(), callCtx(KEY));
    const second = limited.generate(request(), callCtx(KEY));
    await vi.waitFor(() => expect(gates).toHaveLength(1));
    // A resumed run's call only polls its job: it does not wait behind the submission.
    const resumed = limited.generate(request({ jobId: 'job-0' }), callCtx(KEY));
    await vi.waitFor(() => expect(gates).toHaveLength(2));
    expect(gates[1]!.resumed).toBe(true);
    await settle();
    expect(gates).toHaveLength(2);
    // The first job is submitted and stored: the second submission may go while it polls.
    gates[0]!.submit();
    await vi.waitFor(() => expect(gates).toHaveLength(3));
    expect(gates[2]!.resumed).toBe(false);
    gates[2]!.submit();
    for (const gate of gates) gate.finish();
    await Promise.all([first, second, resumed]);
  });
});

describe('shared back-off after a 429', () => {
  it('makes every call with the key wait until the back-off ends; the failing call still throws', async () => {
    let clock = 0;
    const spied = spyStore(createMemoryKeyBackoffStore({ now: () => clock }));
    const gated = gatedTextProvider();
    const providers = limitProviderKeys(createProviderRegistry([gated.provider]), {
      store: spied.store,
      backoff: shortBackoff,
    });
    const failing = textOf(providers).generate({ prompt: 'first' }, callCtx(KEY));
    await vi.waitFor(() => expect(gated.started).toHaveLength(1));
    const error = rateLimited('gated-text');
    gated.started[0]!.reject(error);
    await expect(failing).rejects.toBe(error);

    const waiting = Array.from({ length: 4 }, (_, i) =>
      textOf(providers).generate({ prompt: `w${i}` }, callCtx(KEY)),
    );
    // Another key is not backed off.
    const other = textOf(providers).generate({ prompt: 'other' }, callCtx(OTHER_KEY));
    await vi.waitFor(() => expect(gated.started).toHaveLength(2));
    expect(gated.started[1]!.prompt).toBe('other');
    gated.started[1]!.resolve();
    await other;
    // The fake clock stands still: each waiter reads the back-off again and again, and waits.
    await vi.waitFor(() => expect(spied.reads.filter((read) => read.waitMs > 0).length).toBeGreaterThan(8));
    expect(gated.started).toHaveLength(2);

    clock += 1_000;
    await vi.waitFor(() => expect(gated.started).toHaveLength(6));
    for (const call of gated.started.slice(2)) call.resolve();
    expect((await Promise.all(waiting)).map((result) => result.text)).toEqual([
      'done: w0',
      'done: w1',
      'done: w2',
      'done: w3',
    ]);
  });

  it('stops waiting for the back-off when the call is aborted', async () => {
    const clock = 0;
    const spied = spyStore(createMemoryKeyBackoffStore({ now: () => clock }));
    const gated = gatedTextProvider();
    const providers = limitProviderKeys(createProviderRegistry([gated.provider]), {
      store: spied.store,
      backoff: shortBackoff,
    });
    await spied.store.strike(providerKeyHash('gated-text', KEY), () => 1_000);
    const controller = new AbortController();
    const call = textOf(providers).generate({ prompt: 'x' }, callCtx(KEY, controller.signal));
    await vi.waitFor(() => expect(spied.reads.length).toBeGreaterThan(0));
    controller.abort(new Error('cancelled'));
    await expect(call).rejects.toThrow('cancelled');
    expect(gated.started).toHaveLength(0);
  });

  it('grows with consecutive 429s (Retry-After at least), and resets after a success', async () => {
    let clock = 0;
    const store = createMemoryKeyBackoffStore({ now: () => clock });
    const gated = gatedTextProvider();
    const providers = limitProviderKeys(createProviderRegistry([gated.provider]), {
      store,
      backoff: { initialMs: 100, factor: 2, maxMs: 1_000, jitter: 0 },
    });
    const hash = providerKeyHash('gated-text', KEY);
    /** Makes one call and ends it with `outcome`; resolves with the call's settled result. */
    const call = async (outcome: 'ok' | number) => {
      const before = gated.started.length;
      const pending = textOf(providers).generate({ prompt: 'x' }, callCtx(KEY));
      await vi.waitFor(() => expect(gated.started).toHaveLength(before + 1));
      const started = gated.started[before]!;
      if (outcome === 'ok') started.resolve();
      else started.reject(rateLimited('gated-text', outcome));
      return pending.then(
        () => 'ok',
        (error: unknown) => (error instanceof ProviderRateLimitedError ? '429' : 'other'),
      );
    };

    expect(await call(0)).toBe('429');
    expect(await store.read(hash)).toEqual({ waitMs: 100, strikes: 1 });
    clock += 100;
    expect(await call(0)).toBe('429');
    expect(await store.read(hash)).toEqual({ waitMs: 200, strikes: 2 });
    clock += 200;
    // Retry-After wins when longer than the growth.
    expect(await call(700)).toBe('429');
    expect(await store.read(hash)).toEqual({ waitMs: 700, strikes: 3 });
    clock += 700;
    // The cap: 100 × 2³ = 800, a 5 s Retry-After → 1 000.
    expect(await call(5_000)).toBe('429');
    expect(await store.read(hash)).toEqual({ waitMs: 1_000, strikes: 4 });
    clock += 1_000;
    expect(await call('ok')).toBe('ok');
    expect(await store.read(hash)).toEqual({ waitMs: 0, strikes: 0 });
    expect(await call(0)).toBe('429');
    expect(await store.read(hash)).toEqual({ waitMs: 100, strikes: 1 });
    clock += 100;

    // Calls sent together: the second 429 arrives during the back-off of the first, so it is
    // not a new strike; a success sent before the back-off does not lift it.
    const before = gated.started.length;
    const together = [1, 2, 3].map(() => textOf(providers).generate({ prompt: 'y' }, callCtx(KEY)));
    await vi.waitFor(() => expect(gated.started).toHaveLength(before + 3));
    const [a, b, c] = gated.started.slice(before);
    a!.reject(rateLimited('gated-text'));
    b!.reject(rateLimited('gated-text'));
    c!.resolve();
    const settled = await Promise.allSettled(together);
    expect(settled.map((result) => result.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
    expect(await store.read(hash)).toEqual({ waitMs: 200, strikes: 2 });
  });

  it('lets calls go when the store fails, with one warning', async () => {
    const broken: KeyBackoffStore = {
      read: () => Promise.reject(new Error('database down')),
      strike: () => Promise.reject(new Error('database down')),
      clear: () => Promise.reject(new Error('database down')),
    };
    const warnings: string[] = [];
    const gated = gatedTextProvider();
    const providers = limitProviderKeys(createProviderRegistry([gated.provider]), {
      store: broken,
      log: { warn: (details, message) => warnings.push(`${message} ${JSON.stringify(details)}`) },
    });
    const ok = textOf(providers).generate({ prompt: 'a' }, callCtx(KEY));
    await vi.waitFor(() => expect(gated.started).toHaveLength(1));
    gated.started[0]!.resolve();
    await expect(ok).resolves.toMatchObject({ text: 'done: a' });
    const limited = textOf(providers).generate({ prompt: 'b' }, callCtx(KEY));
    await vi.waitFor(() => expect(gated.started).toHaveLength(2));
    const error = rateLimited('gated-text');
    gated.started[1]!.reject(error);
    await expect(limited).rejects.toBe(error);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('database down');
    expect(warnings.join('\n')).not.toContain(KEY);
  });
});

/** A `log` that keeps every line as text. */
function captureLog(): { log: ProviderKeyLimitsLog; lines: string[] } {
  const lines: string[] = [];
  return { lines, log: { warn: (details, message) => lines.push(JSON.stringify({ ...details, message })) } };
}

describeEachDatabase('provider key back-off in SQL', ({ db, lane }) => {
  const rows = async () =>
    (
      await sql<{
        key_hash: string;
        strikes: number;
        running: boolean;
      }>`select key_hash, strikes, until > now() as running from provider_key_backoffs`.execute(db())
    ).rows;
  const lift = (keyHash: string) =>
    sql`update provider_key_backoffs set until = now() - interval '1 second' where key_hash = ${keyHash}`.execute(
      db(),
    );

  it('makes a 429 on one machine hold the calls of another', async () => {
    const key = `sk-shared-${randomBytes(8).toString('hex')}`;
    const hash = providerKeyHash('gated-text', key);
    const machine = () => {
      const gated = gatedTextProvider();
      const spied = spyStore(createSqlKeyBackoffStore({ db: db(), cacheMs: 0 }));
      const options: ProviderKeyLimitsOptions = {
        store: spied.store,
        backoff: { initialMs: 60_000, factor: 2, maxMs: 300_000, jitter: 0 },
      };
      return {
        gated,
        spied,
        providers: limitProviderKeys(createProviderRegistry([gated.provider]), options),
      };
    };
    const a = machine();
    const b = machine();

    const failing = textOf(a.providers).generate({ prompt: 'a' }, callCtx(key));
    await vi.waitFor(() => expect(a.gated.started).toHaveLength(1));
    a.gated.started[0]!.reject(rateLimited('gated-text'));
    await expect(failing).rejects.toBeInstanceOf(ProviderRateLimitedError);
    expect(await rows()).toEqual([{ key_hash: hash, strikes: 1, running: true }]);

    const controller = new AbortController();
    const held = textOf(b.providers).generate({ prompt: 'b' }, callCtx(key, controller.signal));
    await vi.waitFor(() => expect(b.spied.reads.some((read) => read.waitMs > 50_000)).toBe(true));
    controller.abort(new Error('cancelled'));
    await expect(held).rejects.toThrow('cancelled');
    expect(b.gated.started).toHaveLength(0);

    // Once the back-off is over, machine B's call goes, and its success forgets the strikes.
    await lift(hash);
    const after = textOf(b.providers).generate({ prompt: 'b2' }, callCtx(key));
    await vi.waitFor(() => expect(b.gated.started).toHaveLength(1));
    b.gated.started[0]!.resolve();
    await expect(after).resolves.toMatchObject({ text: 'done: b2' });
    expect((await rows()).filter((row) => row.key_hash === hash)).toEqual([]);
  });

  it('grows strikes only after a back-off ends, once however many machines strike together', async () => {
    const hash = providerKeyHash('gated-text', `sk-${randomBytes(8).toString('hex')}`);
    const stores = [0, 1].map(() => createSqlKeyBackoffStore({ db: db(), cacheMs: 0 }));
    const asked: number[] = [];
    const delayFor = (strikes: number) => {
      asked.push(strikes);
      return 60_000 * strikes;
    };
    const together = await Promise.all(
      Array.from({ length: 10 }, (_, i) => stores[i % 2]!.strike(hash, delayFor)),
    );
    expect(together.map((state) => state.strikes)).toEqual(Array(10).fill(1));
    expect(new Set(asked)).toEqual(new Set([1]));
    expect((await stores[1]!.read(hash)).waitMs).toBeGreaterThan(50_000);

    // A success during the back-off does not lift it.
    await stores[0]!.clear(hash);
    expect(await stores[1]!.read(hash)).toMatchObject({ strikes: 1 });
    await lift(hash);
    expect(await stores[1]!.strike(hash, delayFor)).toMatchObject({ strikes: 2 });
    expect((await stores[0]!.read(hash)).waitMs).toBeGreaterThan(110_000);
    await lift(hash);
    expect(await stores[0]!.read(hash)).toEqual({ waitMs: 0, strikes: 2 });
    await stores[0]!.clear(hash);
    expect(await stores[1]!.read(hash)).toEqual({ waitMs: 0, strikes: 0 });
    expect(await stores[1]!.strike(hash, delayFor)).toMatchObject({ strikes: 1 });
  });

  it('gathers reads of many keys made together into one statement, each answered for its key', async () => {
    const { db: counted, count: queries } = countStatements(db());
    const hashes = Array.from({ length: 20 }, () =>
      providerKeyHash('gated-text', `sk-${randomBytes(8).toString('hex')}`),
    );
    const struck = hashes.filter((_, i) => i % 5 === 0);
    const other = createSqlKeyBackoffStore({ db: db(), cacheMs: 0 });
    for (const hash of struck) await other.strike(hash, () => 60_000);

    const reader = createSqlKeyBackoffStore({ db: counted, cacheMs: 0 });
    const states = await Promise.all(hashes.map((hash) => reader.read(hash)));
    for (const [i, hash] of hashes.entries()) {
      if (struck.includes(hash)) expect(states[i]).toMatchObject({ strikes: 1, waitMs: expect.any(Number) });
      else expect(states[i]).toEqual({ waitMs: 0, strikes: 0 });
    }
    for (const [i, hash] of hashes.entries())
      if (struck.includes(hash)) expect(states[i]?.waitMs).toBeGreaterThan(50_000);
    // The first two reads went at once (two statements in flight at most); the 18 asked for
    // meanwhile went together.
    expect(queries()).toBeLessThanOrEqual(3);
  });

  it('answers reads from a short cache, one query for many callers', async () => {
    const { db: counted, count: queries } = countStatements(db());
    let clock = 0;
    const hash = providerKeyHash('gated-text', `sk-${randomBytes(8).toString('hex')}`);
    const reader = createSqlKeyBackoffStore({ db: counted, cacheMs: 500, now: () => clock });
    const other = createSqlKeyBackoffStore({ db: db(), cacheMs: 0 });

    const many = await Promise.all(Array.from({ length: 50 }, () => reader.read(hash)));
    expect(many.every((state) => state.waitMs === 0 && state.strikes === 0)).toBe(true);
    expect(queries()).toBe(1);
    // A success with no strikes known writes nothing.
    await reader.clear(hash);
    expect(queries()).toBe(1);

    // Another machine backs the key off: this one sees it once its answer is older than cacheMs.
    await other.strike(hash, () => 60_000);
    clock += 499;
    expect((await reader.read(hash)).waitMs).toBe(0);
    clock += 1;
    expect((await reader.read(hash)).waitMs).toBeGreaterThan(50_000);
    expect(queries()).toBe(2);
    // Its own strikes are known at once, without another read.
    const mine = createSqlKeyBackoffStore({ db: counted, cacheMs: 500, now: () => clock });
    const ownHash = providerKeyHash('gated-text', `sk-${randomBytes(8).toString('hex')}`);
    expect((await mine.read(ownHash)).waitMs).toBe(0);
    const struck = await mine.strike(ownHash, () => 60_000);
    const queriesAfterStrike = queries();
    expect(await mine.read(ownHash)).toEqual(struck);
    expect(queries()).toBe(queriesAfterStrike);
  });

  it(`never stores, logs or throws the key itself (canary) [${lane}]`, async () => {
    const canary = `sk-canary-limits-${randomBytes(12).toString('hex')}`;
    const { log, lines } = captureLog();
    const gated = gatedTextProvider();
    const providers = limitProviderKeys(createProviderRegistry([gated.provider]), {
      store: createSqlKeyBackoffStore({ db: db(), cacheMs: 0 }),
      log,
      backoff: { initialMs: 60_000, factor: 2, maxMs: 300_000, jitter: 0 },
    });
    const errors: unknown[] = [];
    const failing = textOf(providers).generate({ prompt: 'a' }, callCtx(canary));
    await vi.waitFor(() => expect(gated.started).toHaveLength(1));
    gated.started[0]!.reject(rateLimited('gated-text', 1_000));
    await failing.catch((error: unknown) => errors.push(error));
    const controller = new AbortController();
    const waiting = textOf(providers).generate({ prompt: 'b' }, callCtx(canary, controller.signal));
    setTimeout(() => controller.abort(), 20);
    await waiting.catch((error: unknown) => errors.push(error));
    expect(errors).toHaveLength(2);

    const table = (
      await sql<{ row: string }>`select to_jsonb(t)::text as row from provider_key_backoffs t`.execute(db())
    ).rows.map((row) => row.row);
    expect(table.join('\n')).toContain(providerKeyHash('gated-text', canary));
    expect(lines.join('\n')).toContain('rate-limited');
    for (const [where, text] of Object.entries({
      table: table.join('\n'),
      logs: lines.join('\n'),
      errors: errors.map((error) => `${String(error)} ${JSON.stringify(error)}`).join('\n'),
    })) {
      expect(text.includes(canary), `canary found in ${where}`).toBe(false);
    }
    // The table refuses anything but a SHA-256 in hex.
    await expect(
      sql`insert into provider_key_backoffs (key_hash, until) values (${canary}, now())`.execute(db()),
    ).rejects.toThrow(/check/i);
  });
});

describe('the real providers against the wire-format fakes', () => {
  let openai: OpenAiFake;
  let stability: StabilityFake;
  beforeAll(async () => {
    openai = await startOpenAiFake();
    stability = await startStabilityFake();
  });
  afterAll(async () => {
    await Promise.all([openai?.close(), stability?.close()]);
  });

  it('holds every OpenAI call of the key after a 429 until the back-off ends; Stability is not held', async () => {
    let clock = 0;
    const spied = spyStore(createMemoryKeyBackoffStore({ now: () => clock }));
    const { log, lines } = captureLog();
    const providers = limitProviderKeys(
      createProviderRegistry([
        createOpenAiTextProvider({ baseURL: openai.baseURL }),
        createStabilityImageProvider({ baseUrl: stability.url }),
      ]),
      { store: spied.store, log, backoff: shortBackoff },
    );
    const text = providers.get('text', 'openai-text');
    const openAiKey = OPENAI_FAKE_KEY;
    const enhance = (prompt: string) =>
      text.generate({ prompt }, { ...callCtx(openAiKey), config: text.config.parse({}) });

    openai.inject('chat.completions', openai.faults.rateLimited({ retryAfterMs: 5 }));
    const error = await enhance('a fox').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderRateLimitedError);
    expect((error as ProviderRateLimitedError).afterMs).toBe(5);
    expect(openai.counts.get('chat.completions')).toBe(1);

    const waiting = ['a hare', 'a lynx', 'an owl', 'a wolf'].map(enhance);
    await vi.waitFor(() => expect(spied.reads.filter((read) => read.waitMs > 0).length).toBeGreaterThan(8));
    expect(openai.counts.get('chat.completions')).toBe(1);

    // Another provider's key is not held.
    const image = providers.get('image', 'stability-image');
    stability.inject('generate', {
      kind: 'status',
      status: 429,
      headers: { 'retry-after': '2' },
      body: { name: 'rate_limit_exceeded', errors: ['You have exceeded the rate limit'] },
    });
    const imageCall = () =>
      image.generate(
        { prompt: 'a fox', size: 'small', aspectRatio: '1:1' },
        { ...callCtx(stability.apiKey), config: image.config.parse({}) },
      );
    await expect(imageCall()).rejects.toMatchObject({ afterMs: 2_000 });
    const stabilityHash = providerKeyHash('stability-image', stability.apiKey);
    expect((await spied.store.read(stabilityHash)).waitMs).toBeGreaterThanOrEqual(2_000);
    expect(openai.counts.get('chat.completions')).toBe(1);

    clock += 10_000;
    const results = await Promise.all(waiting);
    expect(results.map((result) => result.text.length > 0)).toEqual([true, true, true, true]);
    expect(openai.counts.get('chat.completions')).toBe(5);
    await expect(imageCall()).resolves.toMatchObject({ mimeType: 'image/png' });
    expect(stability.counts.get('generate')).toBe(2);
    expect(lines.filter((line) => line.includes('rate-limited'))).toHaveLength(2);
    expect(lines.join('\n')).not.toContain(openAiKey);
    expect(lines.join('\n')).not.toContain(stability.apiKey);
  });
});

describeEachDatabase('runs share the back-off of their key (services)', ({ database, lane }) => {
  let openai: OpenAiFake;
  const canary = `sk-canary-runs-${randomBytes(12).toString('hex')}`;
  beforeAll(async () => {
    openai = await startOpenAiFake({ validKeys: [canary] });
  });
  afterAll(async () => {
    await openai?.close();
  });

  it(`retries a 429 behind the key's back-off and completes every run [${lane}]`, async () => {
    const t = await createTestApp(database(), {
      providers: createProviderRegistry([
        ...localProviders(),
        createOpenAiTextProvider({ baseURL: openai.baseURL }),
      ]),
    });
    try {
      const user = await t.signUp();
      expect((await user.request('PUT', '/api/user/api-keys/openai', { key: canary })).status).toBe(200);
      openai.inject('chat.completions', openai.faults.rateLimited({ retryAfterSeconds: 0 }));
      const graph = (text: string) => ({
        version: 1,
        nodes: [
          { id: 'prompt', type: 'prompt', config: { text } },
          { id: 'enhance', type: 'enhance', config: { provider: 'openai-text' } },
        ],
        edges: [
          { id: 'p-e', source: 'prompt', sourceHandle: 'prompt', target: 'enhance', targetHandle: 'prompt' },
        ],
      });
      const runIds: string[] = [];
      for (const text of ['a fox', 'a hare', 'an owl']) {
        const accepted = await user.request('POST', '/api/workflow/execute', { graph: graph(text) });
        expect(accepted.status).toBe(202);
        runIds.push(((await accepted.json()) as { runId: string }).runId);
      }
      for (const runId of runIds) {
        await vi.waitFor(
          async () => {
            const status = await user.request('GET', `/api/workflow/status/${runId}`);
            expect(((await status.json()) as { status: string }).status).toBe('completed');
          },
          { timeout: 30_000, interval: 100 },
        );
      }
      // Three enhancements and the one 429.
      expect(openai.counts.get('chat.completions')).toBe(4);
      const logs = t.logLines.join('\n');
      expect(logs).toContain('provider key rate-limited');
      const table = (
        await sql<{ row: string }>`select to_jsonb(t)::text as row from provider_key_backoffs t`.execute(
          t.services.db,
        )
      ).rows.map((row) => row.row);
      for (const [where, text] of Object.entries({ logs, table: table.join('\n') })) {
        expect(text.includes(canary), `canary found in ${where}`).toBe(false);
      }

      // With PostgreSQL the back-off lives in the database: one set by another machine holds this
      // machine's runs (until they are cancelled); PGlite (one process) keeps it in memory.
      await sql`insert into provider_key_backoffs (key_hash, until, strikes)
        values (${providerKeyHash('openai-text', canary)}, now() + interval '1 hour', 1)`.execute(
        t.services.db,
      );
      await new Promise((resolve) => setTimeout(resolve, 600)); // older than the store's read cache
      const accepted = await user.request('POST', '/api/workflow/execute', { graph: graph('a lynx') });
      const { runId } = (await accepted.json()) as { runId: string };
      const statusOf = async () =>
        ((await (await user.request('GET', `/api/workflow/status/${runId}`)).json()) as { status: string })
          .status;
      if (lane === 'postgres') {
        await vi.waitFor(async () => expect(await statusOf()).toBe('running'), { timeout: 10_000 });
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(openai.counts.get('chat.completions')).toBe(4);
        expect((await user.request('POST', `/api/workflow/runs/${runId}/cancel`)).status).toBe(202);
        await vi.waitFor(async () => expect(await statusOf()).toBe('cancelled'), { timeout: 10_000 });
        expect(openai.counts.get('chat.completions')).toBe(4);
      } else {
        await vi.waitFor(async () => expect(await statusOf()).toBe('completed'), { timeout: 30_000 });
        expect(openai.counts.get('chat.completions')).toBe(5);
      }
    } finally {
      await t.services.close();
    }
  });
});

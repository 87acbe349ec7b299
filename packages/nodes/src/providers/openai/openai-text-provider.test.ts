import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREDIT_PRICES } from '../../provider/pricing.ts';
import type { ProviderCallContext } from '../../provider/provider-types.ts';
import { OPENAI_FAKE_KEY, type OpenAiFake, startOpenAiFake } from '../../testing/fakes/openai-fake.ts';
import { enhancePrompt } from '../local/local-text-provider.ts';
import {
  createOpenAiTextProvider,
  DEFAULT_OPENAI_TEXT_MODEL,
  OPENAI_ENHANCE_SYSTEM_PROMPT,
} from './openai-text-provider.ts';

let fake: OpenAiFake;
let provider: ReturnType<typeof createOpenAiTextProvider>;

beforeAll(async () => {
  fake = await startOpenAiFake();
  provider = createOpenAiTextProvider({ baseURL: fake.baseURL });
});
afterAll(async () => {
  await fake.close();
});

function context(
  options: Record<string, unknown> = {},
  apiKey: string | undefined = OPENAI_FAKE_KEY,
  signal = new AbortController().signal,
): ProviderCallContext<ReturnType<typeof provider.config.parse>> & {
  readonly reports: { fraction: number; message?: string }[];
} {
  const reports: { fraction: number; message?: string }[] = [];
  return {
    config: provider.config.parse(options),
    apiKey,
    signal,
    progress: (fraction, message) =>
      reports.push(message === undefined ? { fraction } : { fraction, message }),
    reports,
  };
}

/** The chat request the fake received last. */
const lastChat = () =>
  fake.requests.filter((r) => r.route === 'chat.completions').at(-1)?.body as {
    model: string;
    messages: { role: string; content: string }[];
    temperature: number;
    max_completion_tokens: number;
  };

describe('openai-text provider', () => {
  it('is OpenAI’s text provider, on the “openai” key, at the enhance price', () => {
    expect(provider).toMatchObject({
      id: 'openai-text',
      displayName: 'OpenAI',
      kind: 'text',
      local: false,
      key: { secret: 'openai', label: 'OpenAI key' },
    });
    expect(provider.price()).toBe(CREDIT_PRICES.enhance);
    expect(provider.config.parse({})).toEqual({
      model: DEFAULT_OPENAI_TEXT_MODEL,
      temperature: 0.7,
      maxOutputTokens: 600,
    });
    expect(DEFAULT_OPENAI_TEXT_MODEL).toBe('gpt-5.4-mini');
    expect(() => provider.config.parse({ temperature: 3 })).toThrow();
    expect(Object.isFrozen(provider)).toBe(true);
  });

  it('the system prompt asks for style, lighting, composition, mood and quality, concisely, in the user’s language', () => {
    for (const topic of ['style', 'lighting', 'composition', 'mood', 'quality', 'at most 200 words']) {
      expect(OPENAI_ENHANCE_SYSTEM_PROMPT).toContain(topic);
    }
    expect(OPENAI_ENHANCE_SYSTEM_PROMPT).toMatch(/same language as the user's prompt/);
  });

  it('enhances a prompt through Chat Completions: the answer, the tokens billed and the model', async () => {
    const ctx = context();
    const prompt = 'a red fox in the snow at dawn';
    const result = await provider.generate({ prompt }, ctx);
    expect(result.text).toBe(enhancePrompt(prompt)); // the fake's deterministic answer
    expect(result.model).toBe('gpt-5.4-mini');
    expect(result.tokensUsed).toBeGreaterThan(0);
    expect(Number.isInteger(result.tokensUsed)).toBe(true);

    const request = lastChat();
    expect(request).toMatchObject({ model: 'gpt-5.4-mini', temperature: 0.7, max_completion_tokens: 600 });
    expect(request.messages).toEqual([
      { role: 'system', content: OPENAI_ENHANCE_SYSTEM_PROMPT },
      { role: 'user', content: prompt },
    ]);
    expect(fake.log.at(-1)).toMatchObject({
      method: 'POST',
      path: '/v1/chat/completions',
      authorization: `Bearer ${OPENAI_FAKE_KEY}`,
    });
    expect(ctx.reports.at(0)).toEqual({ fraction: 0.05, message: 'Asking gpt-5.4-mini' });
    expect(ctx.reports.at(-1)).toEqual({ fraction: 1 });
  });

  it('sends a French prompt as is, with the instruction to answer in its language, and returns French', async () => {
    const prompt = "un renard roux dans la neige à l'aube";
    const result = await provider.generate({ prompt }, context());
    const request = lastChat();
    expect(request.messages[0]).toMatchObject({ role: 'system' });
    expect(request.messages[0]?.content).toContain(
      "Always answer in the same language as the user's prompt: a prompt in French gets an answer in French.",
    );
    expect(request.messages[1]).toEqual({ role: 'user', content: prompt });
    expect(result.text).toMatch(/^Un renard roux dans la neige à l'aube\./);
    expect(result.text).toMatch(/Cadrage vertical 9:16/);
  });

  it('uses the configured model and temperature', async () => {
    const result = await provider.generate(
      { prompt: 'a city at night' },
      context({ model: 'gpt-4.1-mini', temperature: 0.2, maxOutputTokens: 400 }),
    );
    expect(result.model).toBe('gpt-4.1-mini');
    expect(lastChat()).toMatchObject({ model: 'gpt-4.1-mini', temperature: 0.2, max_completion_tokens: 400 });
  });

  it('returns a truncated answer as is when OpenAI stops at the token budget', async () => {
    const result = await provider.generate({ prompt: 'a city at night' }, context({ maxOutputTokens: 16 }));
    expect(result.text).toBe(enhancePrompt('a city at night').slice(0, 64).trim());
  });

  describe('validateKey (GET /v1/models)', () => {
    const validate = (key: string, p = provider) =>
      p.validateKey!(key, { signal: new AbortController().signal });

    it('accepts a key OpenAI accepts', async () => {
      const before = fake.counts.get('models.list') ?? 0;
      expect(await validate(OPENAI_FAKE_KEY)).toEqual({ valid: true });
      expect(fake.counts.get('models.list')).toBe(before + 1);
    });

    it('refuses a key OpenAI rejects, with a reason a person understands', async () => {
      expect(await validate('sk-not-a-real-key-0001')).toEqual({
        valid: false,
        reason: 'OpenAI rejected this key.',
      });
      fake.inject('models.list', fake.faults.permissionDenied());
      expect(await validate(OPENAI_FAKE_KEY)).toEqual({
        valid: false,
        reason:
          'OpenAI refused access with this key: it may lack permissions, or OpenAI may not be available in your region.',
      });
      expect(await validate('  ')).toEqual({ valid: false, reason: 'Enter an OpenAI key.' });
    });

    it('never says “valid” when OpenAI could not confirm the key', async () => {
      fake.inject(
        'models.list',
        fake.faults.serverError({ status: 503 }),
        fake.faults.rateLimited(),
        fake.faults.insufficientQuota(),
        { kind: 'malformed' },
        { kind: 'status', status: 200, body: { hello: 'world' } },
      );
      expect(await validate(OPENAI_FAKE_KEY)).toEqual({
        valid: false,
        reason:
          'OpenAI is unavailable right now (HTTP 503), so the key could not be checked: try again later.',
      });
      expect(await validate(OPENAI_FAKE_KEY)).toEqual({
        valid: false,
        reason:
          'OpenAI is limiting requests right now, so the key could not be checked: try again in a moment.',
      });
      expect(await validate(OPENAI_FAKE_KEY)).toMatchObject({
        valid: false,
        reason: expect.stringMatching(/accepted this key, but the account has no quota or credit left/),
      });
      const unreadable =
        'OpenAI sent an answer we could not read, so the key could not be checked: try again.';
      expect(await validate(OPENAI_FAKE_KEY)).toEqual({ valid: false, reason: unreadable });
      expect(await validate(OPENAI_FAKE_KEY)).toEqual({ valid: false, reason: unreadable });
    });

    it('reports an unreachable or silent OpenAI clearly', async () => {
      const gone = await startOpenAiFake();
      const baseURL = gone.baseURL;
      await gone.close();
      expect(await validate(OPENAI_FAKE_KEY, createOpenAiTextProvider({ baseURL }))).toEqual({
        valid: false,
        reason: 'Could not reach OpenAI to check the key: check the network connection and try again.',
      });
      fake.inject('models.list', { kind: 'hang' });
      const slow = createOpenAiTextProvider({ baseURL: fake.baseURL, timeoutMs: 50 });
      expect(await validate(OPENAI_FAKE_KEY, slow)).toEqual({
        valid: false,
        reason: 'OpenAI did not answer in time, so the key could not be checked: try again.',
      });
    });

    it('rejects with the abort reason when aborted', async () => {
      fake.inject('models.list', { kind: 'hang' });
      const controller = new AbortController();
      const check = provider.validateKey!(OPENAI_FAKE_KEY, { signal: controller.signal });
      setTimeout(() => controller.abort(new Error('settings closed')), 20);
      await expect(check).rejects.toThrow('settings closed');
    });
  });
});

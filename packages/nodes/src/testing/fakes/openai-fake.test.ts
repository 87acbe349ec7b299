import OpenAI, {
  APIConnectionTimeoutError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  RateLimitError,
} from 'openai';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPENAI_FAKE_KEY, type OpenAiFake, openAiFaults, startOpenAiFake } from './openai-fake.ts';

let fake: OpenAiFake;
let client: OpenAI;

beforeAll(async () => {
  fake = await startOpenAiFake({ unsafeWords: ['forbidden'] });
  client = new OpenAI({ apiKey: OPENAI_FAKE_KEY, baseURL: fake.baseURL, maxRetries: 0 });
});
afterAll(async () => {
  await fake.close();
});

const chat = (content: string, c: OpenAI = client) =>
  c.chat.completions.create({
    model: 'gpt-5.4-mini',
    messages: [
      { role: 'system', content: 'Improve prompts.' },
      { role: 'user', content },
    ],
    temperature: 0.7,
  });

/** What a rejected call threw. */
async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('the OpenAI fake', () => {
  it('answers chat completions the SDK reads: deterministic text in the prompt’s language, with usage', async () => {
    const before = fake.counts.get('chat.completions') ?? 0;
    const a = await chat('a red fox in the snow at dawn');
    const b = await chat('a red fox in the snow at dawn');
    expect(a.object).toBe('chat.completion');
    expect(a.model).toBe('gpt-5.4-mini');
    expect(a.choices[0]?.finish_reason).toBe('stop');
    expect(a.choices[0]?.message.content).toMatch(/^A red fox in the snow at dawn\./);
    expect(b.choices[0]?.message.content).toBe(a.choices[0]?.message.content);
    expect(a.usage?.total_tokens).toBe((a.usage?.prompt_tokens ?? 0) + (a.usage?.completion_tokens ?? 0));
    expect(a._request_id).toMatch(/^req_fake/);
    const french = await chat("un renard roux dans la neige à l'aube");
    expect(french.choices[0]?.message.content).toMatch(/lumière dorée/);
    expect(fake.counts.get('chat.completions')).toBe(before + 3);
    expect(fake.requests.at(-1)).toMatchObject({ route: 'chat.completions', body: { temperature: 0.7 } });
  });

  it('cuts the answer at max_completion_tokens with finish_reason "length"', async () => {
    const completion = await client.chat.completions.create({
      model: 'gpt-5.4-mini',
      messages: [{ role: 'user', content: 'a lighthouse' }],
      max_completion_tokens: 5,
    });
    expect(completion.choices[0]?.finish_reason).toBe('length');
    expect(completion.choices[0]?.message.content).toHaveLength(20);
  });

  it('rejects unknown keys with OpenAI’s 401, masking the key unless told to echo it', async () => {
    const wrong = new OpenAI({ apiKey: 'sk-wrong-key-123456789', baseURL: fake.baseURL, maxRetries: 0 });
    const error = await caught(chat('x', wrong));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({ status: 401, code: 'invalid_api_key', type: 'invalid_request_error' });
    expect(String((error as Error).message)).toMatch(/^401 Incorrect API key provided: sk-\*+6789\./);
    expect(String((error as Error).message)).not.toContain('sk-wrong-key-123456789');

    const echo = await startOpenAiFake({ echoKeyInErrors: true });
    try {
      const echoed = await caught(
        chat('x', new OpenAI({ apiKey: 'sk-wrong-key-123456789', baseURL: echo.baseURL, maxRetries: 0 })),
      );
      expect((echoed as Error).message).toContain('sk-wrong-key-123456789');
    } finally {
      await echo.close();
    }

    const response = await fetch(`${fake.baseURL}/models`);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { message: /didn't provide an API key/ } });
  });

  it('validates chat requests with OpenAI’s 400 shape', async () => {
    const error = await caught(
      client.chat.completions.create({
        model: 'gpt-5.4-mini',
        messages: [{ role: 'user', content: 'x' }],
        temperature: 3,
      }),
    );
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({ param: 'temperature', code: 'invalid_value' });
  });

  it.each([
    ['1024x1024', 1024, 1024],
    ['1024x1536', 1024, 1536],
    ['1536x1024', 1536, 1024],
  ] as const)('draws a real %s PNG as b64_json', async (size, width, height) => {
    const started = performance.now();
    const response = await client.images.generate({
      model: 'gpt-image-2',
      prompt: 'a lighthouse at night',
      size,
      quality: 'low',
      output_format: 'png',
    });
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(response).toMatchObject({ output_format: 'png', quality: 'low', size });
    const png = PNG.sync.read(Buffer.from(response.data?.[0]?.b64_json ?? '', 'base64'));
    expect([png.width, png.height]).toEqual([width, height]);
    expect(response.usage?.total_tokens).toBeGreaterThan(0);
  });

  it('rejects unsupported sizes, response_format, non-GPT-image models and unsafe prompts as OpenAI does', async () => {
    const size = await caught(client.images.generate({ model: 'gpt-image-2', prompt: 'x', size: '512x512' }));
    expect(size).toBeInstanceOf(BadRequestError);
    expect(size).toMatchObject({ status: 400, param: 'size', code: 'invalid_value' });
    expect((size as Error).message).toContain("Invalid value: '512x512'");

    const format = await caught(
      client.images.generate({ model: 'gpt-image-2', prompt: 'x', response_format: 'b64_json' }),
    );
    expect(format).toMatchObject({ status: 400, param: 'response_format', code: 'unknown_parameter' });

    const dalle = await caught(client.images.generate({ prompt: 'x' }));
    expect(dalle).toMatchObject({ status: 400, param: 'model' });

    const unsafe = await caught(
      client.images.generate({ model: 'gpt-image-2', prompt: 'something FORBIDDEN' }),
    );
    expect(unsafe).toBeInstanceOf(BadRequestError);
    expect(unsafe).toMatchObject({ code: 'moderation_blocked', type: 'image_generation_user_error' });
    expect((unsafe as Error).message).toMatch(
      /rejected by the safety system.*safety_violations=\[violence\]/,
    );
    expect((unsafe as BadRequestError).requestID).toMatch(/^req_fake/);
    expect((unsafe as Error).message).toContain((unsafe as BadRequestError).requestID);
  });

  it('lists models', async () => {
    const page = await client.models.list();
    expect(page.object).toBe('list');
    expect(page.data.map((m) => m.id)).toContain('gpt-image-2');
  });

  it('injects OpenAI’s exact error answers', async () => {
    fake.inject(
      'chat.completions',
      openAiFaults.rateLimited({ retryAfterSeconds: 2, retryAfterMs: 1500 }),
      fake.faults.insufficientQuota(),
      fake.faults.serverError({ status: 503 }),
      fake.faults.contentPolicy(),
      fake.faults.permissionDenied(),
    );
    const limited = await caught(chat('x'));
    expect(limited).toBeInstanceOf(RateLimitError);
    expect(limited).toMatchObject({ code: 'rate_limit_exceeded', type: 'requests' });
    expect((limited as RateLimitError).headers.get('retry-after')).toBe('2');
    expect((limited as RateLimitError).headers.get('retry-after-ms')).toBe('1500');
    expect(await caught(chat('x'))).toMatchObject({ status: 429, code: 'insufficient_quota' });
    const outage = await caught(chat('x'));
    expect(outage).toBeInstanceOf(InternalServerError);
    expect(outage).toMatchObject({ status: 503, type: 'server_error' });
    expect(await caught(chat('x'))).toMatchObject({ status: 400, code: 'content_policy_violation' });
    expect(await caught(chat('x'))).toMatchObject({ status: 403 });
    expect((await chat('x')).object).toBe('chat.completion'); // faults are used once
  });

  it('hangs until the client gives up, and sends malformed JSON on demand', async () => {
    fake.inject('models.list', { kind: 'hang' }, { kind: 'malformed' });
    const quick = new OpenAI({ apiKey: OPENAI_FAKE_KEY, baseURL: fake.baseURL, maxRetries: 0, timeout: 50 });
    expect(await caught(quick.models.list())).toBeInstanceOf(APIConnectionTimeoutError);
    expect(await caught(client.models.list())).toBeInstanceOf(SyntaxError);
  });
});

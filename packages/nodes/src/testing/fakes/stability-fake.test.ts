import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STABILITY_RESOLUTIONS, type StabilityFake, startStabilityFake } from './stability-fake.ts';

let fake: StabilityFake;
beforeAll(async () => {
  fake = await startStabilityFake({ credits: 10 });
});
afterAll(async () => {
  await fake.close();
});

const form = (fields: Record<string, string>) => {
  const body = new FormData();
  for (const [name, value] of Object.entries(fields)) body.append(name, value);
  return body;
};
const generate = (endpoint: string, body: BodyInit, headers: Record<string, string> = {}) =>
  fetch(`${fake.url}/v2beta/stable-image/generate/${endpoint}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${fake.apiKey}`, accept: 'image/*', ...headers },
    body,
  });

describe('startStabilityFake', () => {
  it('answers a real PNG at Stability’s resolution, with its headers, and charges credits', async () => {
    const res = await generate('core', form({ prompt: 'a fox', aspect_ratio: '21:9', output_format: 'png' }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('finish-reason')).toBe('SUCCESS');
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
    expect(Number(res.headers.get('seed'))).toBeGreaterThan(0);
    const png = PNG.sync.read(Buffer.from(await res.arrayBuffer()));
    expect([png.width, png.height]).toEqual(STABILITY_RESOLUTIONS['21:9']);
    expect(fake.credits).toBe(7);
    expect(fake.requests.at(-1)?.fields).toEqual({
      prompt: 'a fox',
      aspect_ratio: '21:9',
      output_format: 'png',
    });
  });

  it('defaults to 1:1 and answers base64 JSON for Accept: application/json', async () => {
    fake.credits = 10;
    const res = await generate('ultra', form({ prompt: 'a fox' }), { accept: 'application/json' });
    expect(res.headers.get('content-type')).toBe('application/json; type=image/png');
    const json = (await res.json()) as { image: string; finish_reason: string; seed: number };
    expect(json.finish_reason).toBe('SUCCESS');
    const png = PNG.sync.read(Buffer.from(json.image, 'base64'));
    expect([png.width, png.height]).toEqual([1024, 1024]);
  });

  it('answers errors in Stability’s shape', async () => {
    const expectError = async (res: Response, status: number, name: string, message: RegExp) => {
      expect(res.status).toBe(status);
      const body = (await res.json()) as { id: string; name: string; errors: string[] };
      expect(body.id).toMatch(/^[0-9a-f]{32}$/);
      expect(body.name).toBe(name);
      expect(body.errors.join(' ')).toMatch(message);
    };
    await expectError(
      await generate('core', form({ prompt: 'x' }), { authorization: 'Bearer nope' }),
      401,
      'unauthorized',
      /invalid/,
    );
    await expectError(
      await generate('core', JSON.stringify({ prompt: 'x' }), { 'content-type': 'application/json' }),
      400,
      'bad_request',
      /multipart\/form-data/,
    );
    await expectError(await generate('core', form({ prompt: ' ' })), 400, 'bad_request', /prompt/);
    await expectError(
      await generate('core', form({ prompt: 'x', aspect_ratio: '4:3' })),
      400,
      'bad_request',
      /aspect_ratio/,
    );
    await expectError(
      await generate('core', form({ prompt: 'x', output_format: 'gif' })),
      400,
      'bad_request',
      /output_format/,
    );
    await expectError(
      await generate('sd3', form({ prompt: 'x', model: 'sd1' })),
      400,
      'bad_request',
      /model/,
    );
    await expectError(
      await generate('core', form({ prompt: 'a forbidden thing' })),
      403,
      'content_moderation',
      /flagged/,
    );
    await expectError(await generate('flux', form({ prompt: 'x' })), 404, 'not_found', /no such endpoint/);
    fake.credits = 2;
    await expectError(await generate('core', form({ prompt: 'x' })), 402, 'payment_required', /credits/);
  });

  it('reads a multipart body with a file part and quoted boundary', async () => {
    const body = new FormData();
    body.append('image', new Blob([new Uint8Array([1, 2, 3])]), 'in.png');
    body.append('prompt', 'with a file');
    body.append('mode', 'text-to-image');
    fake.credits = 100;
    const res = await generate('sd3', body);
    expect(res.status).toBe(200);
    expect(fake.requests.at(-1)?.fields).toEqual({ prompt: 'with a file', mode: 'text-to-image' });
  });

  it('serves the balance and account routes behind the key, and counts requests', async () => {
    const auth = { authorization: `Bearer ${fake.apiKey}` };
    fake.credits = 24.5;
    expect(await (await fetch(`${fake.url}/v1/user/balance`, { headers: auth })).json()).toEqual({
      credits: 24.5,
    });
    const account = (await (await fetch(`${fake.url}/v1/user/account`, { headers: auth })).json()) as {
      id: string;
    };
    expect(account.id).toBe('user-fake');
    expect((await fetch(`${fake.url}/v1/user/balance`)).status).toBe(401);
    expect(fake.counts.get('balance')).toBe(2);
    expect(fake.counts.get('account')).toBe(1);
  });
});

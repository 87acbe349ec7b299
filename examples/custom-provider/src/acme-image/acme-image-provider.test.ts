import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFfmpegMediaTools, ProviderRateLimitedError, ProviderRejectedError } from '@vidgenie/nodes';
import { describeProviderConformance } from '@vidgenie/nodes/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeAcmeVideo } from '../make-acme-video.ts';
import { ACME_FAKE_KEY, type AcmeFake, createAcmeImageProvider, startAcmeFake } from './index.ts';

let fake: AcmeFake;
const dirs: string[] = [];
beforeAll(async () => {
  fake = await startAcmeFake();
});
afterAll(async () => {
  await fake.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describeProviderConformance({
  name: 'acme-image (fake)',
  createProvider: () => createAcmeImageProvider({ baseURL: fake.url }),
  key: { valid: ACME_FAKE_KEY, invalid: 'acme-live-wrong-key-9999' },
  describe,
  it,
});

describe('acme-image error mapping', () => {
  const context = (signal = new AbortController().signal) => ({
    config: { model: 'acme-render-2', style: 'photo' as const },
    apiKey: ACME_FAKE_KEY,
    signal,
    progress: () => {},
  });
  const request = { prompt: 'a fox', size: 'small', aspectRatio: '9:16' } as const;

  it('maps a 429 to a rate-limited error with Acme’s delay, and a blocked prompt to a rejection', async () => {
    const acme = createAcmeImageProvider({ baseURL: fake.url });
    fake.inject('render', {
      kind: 'status',
      status: 429,
      headers: { 'retry-after': '3' },
      body: { error: { code: 'rate_limited', message: 'Slow down.' } },
    });
    const limited = await acme.generate(request, context()).catch((error: unknown) => error);
    expect(limited).toBeInstanceOf(ProviderRateLimitedError);
    expect((limited as ProviderRateLimitedError).afterMs).toBe(3000);
    const blocked = await acme
      .generate({ ...request, prompt: 'something unsafe' }, context())
      .catch((error: unknown) => error);
    expect(blocked).toBeInstanceOf(ProviderRejectedError);
    expect((blocked as ProviderRejectedError).failure).toBe('content_rejected');
  });

  it('maps a 503 and an unreadable answer to retryable failures', async () => {
    const acme = createAcmeImageProvider({ baseURL: fake.url });
    fake.inject('render', { kind: 'status', status: 503 }, { kind: 'malformed' });
    await expect(acme.generate(request, context())).rejects.toMatchObject({
      failure: 'unavailable',
      retryable: true,
    });
    await expect(acme.generate(request, context())).rejects.toMatchObject({
      failure: 'malformed_response',
      retryable: true,
    });
  });
});

describe('the short-video template with acme-image', () => {
  it('renders an 8 s 720x1280 MP4 from an Acme image', async () => {
    const root = await mkdtemp(join(tmpdir(), 'vidgenie-acme-'));
    dirs.push(root);
    const before = fake.counts.get('render') ?? 0;
    const { outcome, videoPath } = await makeAcmeVideo({
      prompt: 'a red fox in the snow at dawn',
      baseURL: fake.url,
      acmeKey: ACME_FAKE_KEY,
      root,
    });
    expect(outcome.status).toBe('completed');
    expect(fake.counts.get('render')).toBe(before + 1);
    const probe = await createFfmpegMediaTools().probeVideo({ path: videoPath ?? '' });
    expect(probe.width).toBe(720);
    expect(probe.height).toBe(1280);
    expect(Math.abs(probe.durationSeconds - 8)).toBeLessThanOrEqual(0.1);
  });
});

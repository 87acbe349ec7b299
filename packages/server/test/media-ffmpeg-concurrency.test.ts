/**
 * `VIDGENIE_FFMPEG_CONCURRENCY`: validated with the rest of the configuration, applied to the
 * process's ffmpeg slots by `createServices`, and reported by `GET /metrics`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffmpegLoad } from '@vidgenie/nodes';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/server-config.ts';
import { createMetrics } from '../src/metrics/create-metrics.ts';
import { createServices } from '../src/services/create-services.ts';
import { metricValue } from './support/ops-fixtures.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'vidgenie-ffmpeg-concurrency-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('VIDGENIE_FFMPEG_CONCURRENCY', () => {
  it('is unset by default (one per core) and a whole number from 1 to 256', () => {
    expect(loadConfig({}).VIDGENIE_FFMPEG_CONCURRENCY).toBeUndefined();
    expect(loadConfig({ VIDGENIE_FFMPEG_CONCURRENCY: '3' }).VIDGENIE_FFMPEG_CONCURRENCY).toBe(3);
    for (const bad of ['0', '-2', '1.5', '257', 'lots']) {
      expect(() => loadConfig({ VIDGENIE_FFMPEG_CONCURRENCY: bad }), bad).toThrow(ConfigError);
      expect(() => loadConfig({ VIDGENIE_FFMPEG_CONCURRENCY: bad }), bad).toThrow(
        /VIDGENIE_FFMPEG_CONCURRENCY: must be/,
      );
    }
  });

  it('sets the slots of the process the services run in, which GET /metrics reports', async () => {
    const services = await createServices(
      loadConfig({ VIDGENIE_DATA_DIR: dataDir, VIDGENIE_FFMPEG_CONCURRENCY: '3' }),
      { background: false, work: false },
    );
    try {
      expect(ffmpegLoad()).toEqual({ running: 0, waiting: 0, concurrency: 3 });
      const metrics = createMetrics({ db: services.db, vault: services.vault, defaultMetrics: false });
      const text = await metrics.scrape();
      expect(metricValue(text, 'vidgenie_ffmpeg_max_processes')).toBe(3);
      expect(metricValue(text, 'vidgenie_ffmpeg_processes', { state: 'running' })).toBe(0);
      expect(metricValue(text, 'vidgenie_ffmpeg_processes', { state: 'waiting' })).toBe(0);
    } finally {
      await services.close();
    }
  });
});

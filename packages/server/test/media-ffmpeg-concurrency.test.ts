/**
 * `VIDGENIE_FFMPEG_CONCURRENCY` and `VIDGENIE_FFMPEG_NICE`: validated with the rest of the
 * configuration and applied to the process's ffmpeg by `createServices`; the slots are reported
 * by `GET /metrics`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffmpegLoad, ffmpegNiceness, setFfmpegNiceness } from '@vidgenie/nodes';
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

describe('VIDGENIE_FFMPEG_NICE', () => {
  it('is unset by default (ffmpeg at +10) and a whole number from 0 to 19', () => {
    expect(loadConfig({}).VIDGENIE_FFMPEG_NICE).toBeUndefined();
    expect(loadConfig({ VIDGENIE_FFMPEG_NICE: '0' }).VIDGENIE_FFMPEG_NICE).toBe(0);
    expect(loadConfig({ VIDGENIE_FFMPEG_NICE: '19' }).VIDGENIE_FFMPEG_NICE).toBe(19);
    for (const bad of ['-1', '20', '2.5', 'low']) {
      expect(() => loadConfig({ VIDGENIE_FFMPEG_NICE: bad }), bad).toThrow(/VIDGENIE_FFMPEG_NICE: must be/);
    }
  });

  it('sets the niceness of the ffmpeg processes the services start', async () => {
    const services = await createServices(
      loadConfig({ VIDGENIE_DATA_DIR: dataDir, VIDGENIE_FFMPEG_NICE: '7' }),
      {
        background: false,
        work: false,
      },
    );
    try {
      expect(ffmpegNiceness()).toBe(7);
    } finally {
      await services.close();
      setFfmpegNiceness(10);
    }
  });
});

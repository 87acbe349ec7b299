import { describe, expect, it } from 'vitest';
import { formatBytes, mediaFactsOf } from './media-facts.ts';

describe('mediaFactsOf', () => {
  it('gives duration, resolution and size in that order', () => {
    expect(mediaFactsOf({ durationSeconds: 8, width: 720, height: 1280, fileSizeBytes: 1_234_567 })).toEqual([
      { key: 'node.duration', value: '8.0 s' },
      { key: 'node.resolution', value: '720×1280' },
      { key: 'node.size', value: '1.2 MB' },
    ]);
  });

  it('leaves out what the content does not know', () => {
    expect(mediaFactsOf({ durationSeconds: null, width: null, height: 720, fileSizeBytes: 0 })).toEqual([]);
  });
});

describe('formatBytes', () => {
  it('picks a unit people read', () => {
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(45_600)).toBe('46 kB');
    expect(formatBytes(12_300_000)).toBe('12.3 MB');
    expect(formatBytes(-1)).toBe('–');
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { ffmpegPriority, resetFfmpegNiceness, setFfmpegNiceness } from './ffmpeg-priority.ts';

// A sandbox without getpriority(2): `os.getPriority` fails as Node reports it; the rest is real.
vi.mock('node:os', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:os')>();
  return {
    ...real,
    getPriority: () => {
      throw Object.assign(new Error('A system error occurred: uv_os_getpriority returned ENOSYS'), {
        code: 'ERR_SYSTEM_ERROR',
      });
    },
  };
});

afterEach(() => resetFfmpegNiceness());

describe('ffmpegPriority where this process cannot read its own priority', () => {
  it("leaves ffmpeg at this process's priority instead of failing every ffmpeg start", () => {
    setFfmpegNiceness(10);
    expect(ffmpegPriority()).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { parseShortVideoArgs } from './parse-args.ts';

describe('parseShortVideoArgs', () => {
  it('reads the idea and the options, with defaults', () => {
    expect(parseShortVideoArgs(['a red fox', 'in the snow', '--duration', '15', '--out', '/tmp/x'])).toEqual({
      prompt: 'a red fox in the snow',
      durationSeconds: 15,
      imageSize: 'medium',
      motion: 'medium',
      out: '/tmp/x',
      local: false,
    });
    expect(parseShortVideoArgs(['--help'])).toBe('help');
  });

  it('says what to fix for a missing idea or a bad option', () => {
    expect(() => parseShortVideoArgs([])).toThrow(/Give your idea/);
    expect(() => parseShortVideoArgs(['fox', '--duration', '9'])).toThrow(
      '--duration must be one of 8, 15, 30, 60',
    );
    expect(() => parseShortVideoArgs(['fox', '--image-size', 'huge'])).toThrow('--image-size must be one of');
    expect(() => parseShortVideoArgs(['fox', '--motion', 'wild'])).toThrow('--motion must be one of');
  });
});

import { describe, expect, it } from 'vitest';
import { imageOfOutput } from './node-media.ts';

describe('imageOfOutput', () => {
  it("reads the image node's reference from node.completed's output", () => {
    const output = {
      image: { key: 'u/run/image.png', mimeType: 'image/png', bytes: 2048, width: 720, height: 1280 },
    };
    expect(imageOfOutput(output)).toEqual({ width: 720, height: 1280, bytes: 2048, mimeType: 'image/png' });
  });

  it("falls back to the output node's thumbnail", () => {
    const output = {
      video: { key: 'v' },
      thumbnail: { key: 't', mimeType: 'image/jpeg', bytes: 10, width: 9, height: 16 },
    };
    expect(imageOfOutput(output)).toMatchObject({ width: 9, height: 16, mimeType: 'image/jpeg' });
  });

  it('finds nothing in outputs without an image reference', () => {
    expect(imageOfOutput(undefined)).toBeUndefined();
    expect(imageOfOutput({ prompt: 'a fox' })).toBeUndefined();
    expect(imageOfOutput({ image: { key: 'k', width: 0, height: 10 } })).toBeUndefined();
    expect(imageOfOutput({ image: 'not a reference' })).toBeUndefined();
    expect(imageOfOutput([{ image: {} }])).toBeUndefined();
  });
});

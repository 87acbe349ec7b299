import { describe, expect, it } from 'vitest';
import {
  columnBounds,
  type PhoneBox,
  phoneFollowViewport,
  phoneTopViewport,
  phoneTranslateExtent,
  phoneZoom,
} from './phone-view.ts';
import { verticalLayout } from './vertical-layout.ts';

/** The short-video column as the phone lays it out: five cards top to bottom, centred on x = 0. */
const SIZES: Readonly<Record<string, { width: number; height: number }>> = {
  prompt: { width: 240, height: 265 },
  enhance: { width: 240, height: 268 },
  image: { width: 240, height: 300 },
  video: { width: 240, height: 190 },
  output: { width: 280, height: 428 },
};
const ids = Object.keys(SIZES);
const positions = verticalLayout(
  ids.map((id, index) => ({ id, position: { x: index * 300, y: 0 }, ...SIZES[id] })),
  ids.slice(1).map((target, index) => ({ source: ids[index] ?? '', target })),
);
const COLUMN: PhoneBox[] = ids.map((id) => ({
  id,
  x: positions.get(id)?.x ?? 0,
  y: positions.get(id)?.y ?? 0,
  width: SIZES[id]?.width ?? 0,
  height: SIZES[id]?.height ?? 0,
}));
const box = (id: string): PhoneBox => COLUMN.find((candidate) => candidate.id === id) as PhoneBox;

/** A 390 × 844 phone: the canvas is the screen's width and about 60 % of its height. */
const PHONE = { width: 390, height: 506 };

/** Where a node lands on the canvas for a viewport. */
const onScreen = (viewport: { x: number; y: number; zoom: number }, node: PhoneBox) => ({
  left: viewport.x + node.x * viewport.zoom,
  top: viewport.y + node.y * viewport.zoom,
  right: viewport.x + (node.x + node.width) * viewport.zoom,
  bottom: viewport.y + (node.y + node.height) * viewport.zoom,
});

describe('phoneZoom', () => {
  it('draws the cards at their real size when the canvas is wide enough (never above 100 %)', () => {
    expect(phoneZoom(390, COLUMN)).toBe(1);
    expect(phoneZoom(720, COLUMN)).toBe(1);
  });

  it('shrinks the widest card to the canvas width less its margins on a narrow canvas', () => {
    // 280 px output card, 16 px each side: (280 - 32) / 280.
    expect(phoneZoom(280, COLUMN)).toBeCloseTo(248 / 280, 5);
  });

  it('keeps the cards legible: never below the minimum, and 100 % before anything is measured', () => {
    expect(phoneZoom(40, COLUMN)).toBe(0.35);
    expect(phoneZoom(390, [])).toBe(1);
    expect(phoneZoom(0, COLUMN)).toBe(1);
  });
});

describe('phoneTopViewport', () => {
  it('starts at the top: the prompt card whole, centred, just below the canvas top', () => {
    const viewport = phoneTopViewport(PHONE, COLUMN, 1);
    const prompt = onScreen(viewport, box('prompt'));
    expect(prompt.top).toBe(16);
    expect(prompt.left + prompt.right).toBeCloseTo(PHONE.width, 5);
    expect(prompt.bottom).toBeLessThanOrEqual(PHONE.height);
    // Far from the old whole-column fit (about 0.15): the cards are readable.
    expect(viewport.zoom).toBe(1);
  });

  it('centres across at any zoom', () => {
    const viewport = phoneTopViewport({ width: 280, height: 400 }, COLUMN, 0.5);
    const output = onScreen(viewport, box('output'));
    expect(output.left + output.right).toBeCloseTo(280, 5);
    expect(onScreen(viewport, box('prompt')).top).toBe(16);
  });
});

describe('phoneTranslateExtent', () => {
  it('lets the canvas scroll from just above the first card to just below the last one', () => {
    const bounds = columnBounds(COLUMN);
    expect(phoneTranslateExtent(COLUMN, 1)).toEqual([
      [(bounds?.minX ?? 0) - 16, -16],
      [(bounds?.maxX ?? 0) + 16, (bounds?.maxY ?? 0) + 16],
    ]);
    // The margin is 16 screen pixels at the fitted zoom.
    expect(phoneTranslateExtent(COLUMN, 0.5)?.[0][1]).toBe(-32);
  });

  it('has nothing to bound without nodes', () => {
    expect(phoneTranslateExtent([], 1)).toBeNull();
  });
});

describe('phoneFollowViewport', () => {
  const top = phoneTopViewport(PHONE, COLUMN, 1);

  it('leaves the view alone when the running card is already whole on the canvas', () => {
    expect(phoneFollowViewport(top, PHONE, COLUMN, 'prompt')).toBeNull();
  });

  it('scrolls a running card below the fold to just below the canvas top', () => {
    const next = phoneFollowViewport(top, PHONE, COLUMN, 'image');
    expect(next).not.toBeNull();
    if (next === null) return;
    expect(next.zoom).toBe(1);
    const image = onScreen(next, box('image'));
    expect(image.top).toBe(16);
    expect(image.left + image.right).toBeCloseTo(PHONE.width, 5);
  });

  it('scrolls back up to a card above the view', () => {
    const atOutput = phoneFollowViewport(top, PHONE, COLUMN, 'output');
    if (atOutput === null) throw new Error('expected a scroll to the output');
    const back = phoneFollowViewport(atOutput, PHONE, COLUMN, 'enhance');
    expect(back && onScreen(back, box('enhance')).top).toBe(16);
  });

  it('never scrolls past the end of the column', () => {
    const next = phoneFollowViewport(top, PHONE, COLUMN, 'output');
    if (next === null) throw new Error('expected a scroll to the output');
    // The last card ends one margin above the canvas bottom instead of leaving empty canvas below.
    expect(onScreen(next, box('output')).bottom).toBeCloseTo(PHONE.height - 16, 5);
  });

  it('keeps the zoom the creator pinched to', () => {
    const pinched = { ...top, zoom: 2 };
    const next = phoneFollowViewport(pinched, PHONE, COLUMN, 'video');
    expect(next?.zoom).toBe(2);
  });

  it('does nothing for a node that is not on the canvas', () => {
    expect(phoneFollowViewport(top, PHONE, COLUMN, 'missing')).toBeNull();
    expect(phoneFollowViewport(top, PHONE, [], 'prompt')).toBeNull();
  });
});

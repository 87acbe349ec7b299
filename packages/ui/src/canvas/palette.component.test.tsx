// @vitest-environment happy-dom
import { act, cleanup, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { graphAtom } from '../atoms/graph.ts';
import { shortVideoGraph } from '../graph/short-video-graph.ts';
import { renderWithProviders } from '../test-support/render-with-providers.tsx';
import { canvasStatusAtom } from './canvas-atoms.ts';
import { Palette } from './palette.tsx';
import { PHONE_QUERY } from './use-media-query.ts';

/** A window as wide as a phone (`phone`) or a desktop. */
const screenIs = (phone: boolean) =>
  vi.stubGlobal('matchMedia', (query: string) => ({
    matches: phone && query === PHONE_QUERY,
    media: query,
    addEventListener: () => undefined,
    removeEventListener: () => undefined,
  }));

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function renderPalette() {
  const rendered = renderWithProviders(<Palette />);
  act(() => rendered.store.set(graphAtom, shortVideoGraph({ prompt: 'A red fox in the snow' })));
  return rendered;
}

describe('Palette status line', () => {
  it('says how to wire handles on a desktop', () => {
    screenIs(false);
    renderPalette();
    expect(screen.getByTestId('canvas-status').textContent).toBe(
      'Drag from an output handle to an input handle to connect; Delete removes the selection.',
    );
  });

  it('says how to move through the column on a phone, where the canvas scrolls', () => {
    screenIs(true);
    renderPalette();
    expect(screen.getByTestId('canvas-status').textContent).toBe(
      'Swipe up and down to move through the steps; pinch to zoom.',
    );
  });

  it('gives way to what the last edit did', () => {
    screenIs(true);
    const { store } = renderPalette();
    act(() => store.set(canvasStatusAtom, { text: 'Added image-2: connect its inputs.', error: false }));
    expect(screen.getByTestId('canvas-status').textContent).toBe('Added image-2: connect its inputs.');
  });
});

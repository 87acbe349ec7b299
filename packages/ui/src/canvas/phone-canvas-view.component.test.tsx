// @vitest-environment happy-dom
import { act, cleanup } from '@testing-library/react';
import { type Node, ReactFlow, type ReactFlowState, useStoreApi } from '@xyflow/react';
import { useEffect } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { renderWithProviders } from '../test-support/render-with-providers.tsx';
import { PhoneCanvasView, REDUCED_MOTION_QUERY } from './phone-canvas-view.tsx';
import type { PhoneBox } from './phone-view.ts';

/** The phone column (five measured cards, top to bottom, centred on x = 0). */
const COLUMN: PhoneBox[] = [
  { id: 'prompt', x: -120, y: 0, width: 240, height: 265 },
  { id: 'enhance', x: -120, y: 321, width: 240, height: 268 },
  { id: 'image', x: -120, y: 645, width: 240, height: 300 },
  { id: 'video', x: -120, y: 1001, width: 240, height: 190 },
  { id: 'output', x: -140, y: 1247, width: 280, height: 428 },
];

/** React Flow nodes already measured (as after the browser laid them out). */
const NODES: Node[] = COLUMN.map((box) => ({
  id: box.id,
  position: { x: box.x, y: box.y },
  data: { label: box.id },
  measured: { width: box.width, height: box.height },
}));

/** Gives the canvas a size, as React Flow's resize observer would in a browser (happy-dom lays nothing out). */
function PaneSize(props: { readonly width: number; readonly height: number }) {
  const store = useStoreApi();
  useEffect(() => {
    store.setState({ width: props.width, height: props.height });
  }, [store, props.width, props.height]);
  return null;
}

/** Reads React Flow's state from inside the canvas, for the assertions. */
let readState: () => ReactFlowState = () => {
  throw new Error('not rendered');
};
function StateProbe() {
  const store = useStoreApi();
  readState = () => store.getState();
  return null;
}

function Canvas(props: {
  readonly phone: boolean;
  readonly focusId: string | null;
  readonly width?: number;
}) {
  return (
    <div style={{ width: props.width ?? 390, height: 506 }}>
      <ReactFlow nodes={NODES} edges={[]} onError={() => undefined}>
        <PaneSize width={props.width ?? 390} height={506} />
        <StateProbe />
        {props.phone && <PhoneCanvasView boxes={COLUMN} focusId={props.focusId} />}
      </ReactFlow>
    </div>
  );
}

/** The viewport as React Flow holds it: [x, y, zoom]. */
const viewport = () => readState().transform;

beforeEach(() => {
  // Less motion asked for: the view jumps instead of gliding, so each step is seen at once.
  vi.stubGlobal('matchMedia', (query: string) => ({
    matches: query === REDUCED_MOTION_QUERY,
    media: query,
    addEventListener: () => undefined,
    removeEventListener: () => undefined,
  }));
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('PhoneCanvasView', () => {
  it('shows the column at the canvas width (100 %, never the whole-column fit) from the top, centred', async () => {
    renderWithProviders(<Canvas phone focusId={null} />, { flow: true });
    await act(async () => undefined);
    // x: the canvas centre (the column is centred on 0); y: the prompt 16 px below the top.
    expect(viewport()).toEqual([195, 16, 1]);
  });

  it('opens on the step in focus when it is below the fold (the step a failed run stopped at)', async () => {
    renderWithProviders(<Canvas phone focusId="video" />, { flow: true });
    await act(async () => undefined);
    expect(viewport()).toEqual([195, 16 - 1001, 1]);
  });

  it('zooms a narrow canvas so the widest card still fits across', async () => {
    renderWithProviders(<Canvas phone focusId={null} width={280} />, { flow: true });
    await act(async () => undefined);
    const [, , zoom] = viewport();
    expect(zoom).toBeCloseTo((280 - 32) / 280, 5);
  });

  it('bounds panning to the column, and lifts the bound when the canvas leaves the phone layout', async () => {
    const { rerender } = renderWithProviders(<Canvas phone focusId={null} />, { flow: true });
    await act(async () => undefined);
    expect(readState().translateExtent).toEqual([
      [-156, -16],
      [156, 1691],
    ]);
    rerender(<Canvas phone={false} focusId={null} />);
    await act(async () => undefined);
    expect(readState().translateExtent).toEqual([
      [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY],
      [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY],
    ]);
  });

  it('scrolls each step that starts running into sight, and leaves a visible one where it is', async () => {
    const { rerender } = renderWithProviders(<Canvas phone focusId="prompt" />, { flow: true });
    await act(async () => undefined);
    // The prompt is in sight at the top: no move.
    expect(viewport()).toEqual([195, 16, 1]);
    rerender(<Canvas phone focusId="image" />);
    await act(async () => undefined);
    // The image card's top 16 px below the canvas top.
    expect(viewport()).toEqual([195, 16 - 645, 1]);
    rerender(<Canvas phone focusId="output" />);
    await act(async () => undefined);
    // The last card: the column's end at the canvas bottom, no empty canvas below it.
    expect(viewport()).toEqual([195, 506 - 16 - 1675, 1]);
  });
});

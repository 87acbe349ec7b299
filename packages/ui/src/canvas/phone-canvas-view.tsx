import {
  type CoordinateExtent,
  useNodesInitialized,
  useReactFlow,
  useStore,
  useStoreApi,
} from '@xyflow/react';
import { useEffect, useRef } from 'react';
import {
  type PhoneBox,
  phoneFollowViewport,
  phoneTopViewport,
  phoneTranslateExtent,
  phoneZoom,
} from './phone-view.ts';
import { useMediaQuery } from './use-media-query.ts';

/** React Flow's default pan extent: anywhere. */
const UNBOUNDED: CoordinateExtent = [
  [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY],
  [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY],
];

/** The users who asked for less motion: the view jumps instead of gliding. */
export const REDUCED_MOTION_QUERY = '(prefers-reduced-motion: reduce)';

/**
 * Steers the phone canvas's viewport (rendered inside `ReactFlow`, phone layout only): once the
 * cards are measured, and again when the canvas's width, the widest card or the number of nodes
 * changes, it zooms the column to the canvas's width and shows its top (or the step in focus);
 * while a run goes, each step that starts running (`focusId`: the running step, or the failed one
 * once a run failed) is scrolled into sight if it is not already.
 * Between those moments the creator scrolls and pinches freely, within the column (its pan
 * extent, lifted again when the canvas leaves the phone layout).
 */
export function PhoneCanvasView(props: {
  readonly boxes: readonly PhoneBox[];
  readonly focusId: string | null;
}) {
  const { boxes, focusId } = props;
  const { setViewport, getViewport } = useReactFlow();
  const initialized = useNodesInitialized();
  const paneWidth = useStore((state) => Math.round(state.width));
  const paneHeight = useStore((state) => Math.round(state.height));
  const reducedMotion = useMediaQuery(REDUCED_MOTION_QUERY);
  // The effects read the latest layout without re-running on every measurement.
  const latest = useRef({ boxes, focusId, paneHeight });
  latest.current = { boxes, focusId, paneHeight };

  const widest = Math.round(Math.max(0, ...boxes.map((box) => box.width)));
  const fitKey = `${paneWidth}|${widest}|${boxes.length}`;
  useEffect(() => {
    void fitKey;
    if (!initialized || paneWidth <= 0) return;
    const { boxes: shown, focusId: focused, paneHeight: height } = latest.current;
    const pane = { width: paneWidth, height };
    const top = phoneTopViewport(pane, shown, phoneZoom(paneWidth, shown));
    const follow = focused === null ? null : phoneFollowViewport(top, pane, shown, focused);
    void setViewport(follow ?? top);
  }, [fitKey, initialized, paneWidth, setViewport]);

  const store = useStoreApi();
  const fitZoom = phoneZoom(paneWidth, boxes);
  const extent = phoneTranslateExtent(boxes, fitZoom);
  const extentKey = extent === null ? '' : extent.flat().map(Math.round).join(',');
  const extentRef = useRef(extent);
  extentRef.current = extent;
  useEffect(() => {
    void extentKey;
    if (extentRef.current !== null) store.getState().setTranslateExtent(extentRef.current);
  }, [extentKey, store]);
  useEffect(() => () => store.getState().setTranslateExtent(UNBOUNDED), [store]);

  const focusBox = boxes.find((box) => box.id === focusId);
  const followKey = focusBox === undefined ? null : `${focusBox.id}|${Math.round(focusBox.y)}`;
  useEffect(() => {
    if (!initialized || followKey === null) return;
    const { boxes: shown, focusId: focused, paneHeight: height } = latest.current;
    if (focused === null) return;
    const next = phoneFollowViewport(getViewport(), { width: paneWidth, height }, shown, focused);
    if (next !== null) void setViewport(next, { duration: reducedMotion ? 0 : 300 });
  }, [followKey, initialized, paneWidth, getViewport, setViewport, reducedMotion]);
  return null;
}

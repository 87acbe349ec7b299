/**
 * The phone canvas's viewport: the top-to-bottom column ({@link verticalLayout}) read like a page.
 * The cards are zoomed to fill the canvas's width (never above 100 %), the view starts at the top
 * (the prompt) and scrolls down the column; a run brings its running step into sight. Pure maths
 * on the laid-out boxes, so it is tested without a browser.
 */
import type { CoordinateExtent, Viewport } from '@xyflow/react';

/** A node's box in the phone layout, in canvas coordinates. */
export interface PhoneBox {
  readonly id: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** The canvas's size on screen, in pixels. */
export interface PaneSize {
  readonly width: number;
  readonly height: number;
}

/** The margins and zoom limits of the phone view. */
export interface PhoneViewOptions {
  /** Room kept around the column on screen, in pixels. */
  readonly margin: number;
  /** The largest zoom the fit uses: cards never drawn larger than their real size. */
  readonly maxZoom: number;
  /** The smallest zoom the fit uses, however narrow the canvas. */
  readonly minZoom: number;
}

/** 16 px around the column, at most 100 % and at least 35 % (a card stays legible). */
export const PHONE_VIEW: PhoneViewOptions = { margin: 16, maxZoom: 1, minZoom: 0.35 };

/** The column's bounding box, or null without nodes. */
export function columnBounds(
  boxes: readonly PhoneBox[],
): { minX: number; minY: number; maxX: number; maxY: number } | null {
  if (boxes.length === 0) return null;
  return {
    minX: Math.min(...boxes.map((box) => box.x)),
    minY: Math.min(...boxes.map((box) => box.y)),
    maxX: Math.max(...boxes.map((box) => box.x + box.width)),
    maxY: Math.max(...boxes.map((box) => box.y + box.height)),
  };
}

/** The zoom at which the widest card fills the canvas's width less its margins, within the limits. */
export function phoneZoom(
  paneWidth: number,
  boxes: readonly PhoneBox[],
  options: PhoneViewOptions = PHONE_VIEW,
): number {
  const widest = Math.max(0, ...boxes.map((box) => box.width));
  if (widest === 0 || paneWidth <= 0) return options.maxZoom;
  const fit = (paneWidth - 2 * options.margin) / widest;
  return Math.min(options.maxZoom, Math.max(options.minZoom, fit));
}

/** The view at the top of the column: centred across, the first row just below the canvas's top. */
export function phoneTopViewport(
  pane: PaneSize,
  boxes: readonly PhoneBox[],
  zoom: number,
  options: PhoneViewOptions = PHONE_VIEW,
): Viewport {
  const bounds = columnBounds(boxes);
  if (bounds === null) return { x: pane.width / 2, y: options.margin, zoom };
  return {
    x: pane.width / 2 - ((bounds.minX + bounds.maxX) / 2) * zoom,
    y: options.margin - bounds.minY * zoom,
    zoom,
  };
}

/**
 * How far the phone canvas pans (React Flow's `translateExtent`): the column and the margin around
 * it, so scrolling stops at the first and last steps instead of wandering off into empty canvas.
 */
export function phoneTranslateExtent(
  boxes: readonly PhoneBox[],
  zoom: number,
  options: PhoneViewOptions = PHONE_VIEW,
): CoordinateExtent | null {
  const bounds = columnBounds(boxes);
  if (bounds === null || zoom <= 0) return null;
  const room = options.margin / zoom;
  return [
    [bounds.minX - room, bounds.minY - room],
    [bounds.maxX + room, bounds.maxY + room],
  ];
}

/**
 * Where to scroll so a node is in sight at the current zoom: null when it already is whole on the
 * canvas; else its top just below the canvas's top (not past the column's end), centred across.
 */
export function phoneFollowViewport(
  current: Viewport,
  pane: PaneSize,
  boxes: readonly PhoneBox[],
  nodeId: string,
  options: PhoneViewOptions = PHONE_VIEW,
): Viewport | null {
  const box = boxes.find((candidate) => candidate.id === nodeId);
  const bounds = columnBounds(boxes);
  if (box === undefined || bounds === null) return null;
  const { zoom } = current;
  const top = current.y + box.y * zoom;
  const left = current.x + box.x * zoom;
  const whole =
    top >= 0 && top + box.height * zoom <= pane.height && left >= 0 && left + box.width * zoom <= pane.width;
  if (whole) return null;
  // From the column's top (highest) to its end at the canvas's bottom (lowest).
  const highest = options.margin - bounds.minY * zoom;
  const lowest = Math.min(highest, pane.height - options.margin - bounds.maxY * zoom);
  const y = Math.min(highest, Math.max(lowest, options.margin - box.y * zoom));
  return { x: pane.width / 2 - (box.x + box.width / 2) * zoom, y, zoom };
}

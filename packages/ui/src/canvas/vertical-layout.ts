/**
 * The phone layout of the canvas: the graph top to bottom, one row per depth (a node sits below
 * every node it takes an input from), rows centred on x = 0. View-only: the graph keeps its own
 * (desktop) positions.
 */

/** What the layout reads of a node: its id, its desktop position (to order a row) and its size. */
export interface LayoutNode {
  readonly id: string;
  readonly position: { readonly x: number; readonly y: number };
  /** The node's measured width, when React Flow measured it. */
  readonly width?: number;
  /** The node's measured height, when React Flow measured it. */
  readonly height?: number;
}

/** What the layout reads of an edge. */
export interface LayoutEdge {
  readonly source: string;
  readonly target: string;
}

/** Sizes and gaps of {@link verticalLayout}, in canvas pixels. */
export interface VerticalLayoutOptions {
  /** The width assumed for a node not measured yet (most step cards are this wide). */
  readonly width: number;
  /** The height assumed for a node not measured yet. */
  readonly defaultHeight: number;
  readonly gapX: number;
  readonly gapY: number;
}

/** The step cards' size (`.step-node` in styles.css) and room for the edges between rows. */
export const VERTICAL_LAYOUT: VerticalLayoutOptions = { width: 240, defaultHeight: 220, gapX: 40, gapY: 56 };

/**
 * Each node's depth: 0 for a node with no inputs, else one more than its deepest input. Nodes on a
 * cycle (which a valid graph has not) or fed by unknown nodes only count the inputs already placed.
 */
export function depthsOf(nodes: readonly LayoutNode[], edges: readonly LayoutEdge[]): Map<string, number> {
  const ids = new Set(nodes.map((node) => node.id));
  const inputs = new Map<string, string[]>();
  const outputs = new Map<string, string[]>();
  for (const edge of edges) {
    if (!ids.has(edge.source) || !ids.has(edge.target) || edge.source === edge.target) continue;
    inputs.set(edge.target, [...(inputs.get(edge.target) ?? []), edge.source]);
    outputs.set(edge.source, [...(outputs.get(edge.source) ?? []), edge.target]);
  }
  const depth = new Map<string, number>();
  const waiting = new Map(nodes.map((node) => [node.id, new Set(inputs.get(node.id) ?? []).size]));
  const ready = nodes.filter((node) => waiting.get(node.id) === 0).map((node) => node.id);
  for (const id of ready) depth.set(id, 0);
  while (ready.length > 0) {
    const id = ready.shift() as string;
    for (const next of new Set(outputs.get(id) ?? [])) {
      depth.set(next, Math.max(depth.get(next) ?? 0, (depth.get(id) ?? 0) + 1));
      const left = (waiting.get(next) ?? 0) - 1;
      waiting.set(next, left);
      if (left === 0) ready.push(next);
    }
  }
  // A cycle: its nodes go below what feeds them from outside it.
  for (const node of nodes) if (!depth.has(node.id)) depth.set(node.id, 0);
  for (const node of nodes)
    if ((waiting.get(node.id) ?? 0) > 0)
      depth.set(
        node.id,
        Math.max(0, ...(inputs.get(node.id) ?? []).map((source) => (depth.get(source) ?? 0) + 1)),
      );
  return depth;
}

/**
 * The positions of the vertical layout, by node id: rows by depth from the top, each row's nodes
 * ordered by their desktop position (left to right, then top to bottom) and centred on x = 0; a row
 * is as tall as its tallest node.
 */
export function verticalLayout(
  nodes: readonly LayoutNode[],
  edges: readonly LayoutEdge[],
  options: VerticalLayoutOptions = VERTICAL_LAYOUT,
): Map<string, { x: number; y: number }> {
  const depth = depthsOf(nodes, edges);
  const rows: LayoutNode[][] = [];
  for (const node of nodes) {
    const row = depth.get(node.id) ?? 0;
    rows[row] = [...(rows[row] ?? []), node];
  }
  const positions = new Map<string, { x: number; y: number }>();
  let y = 0;
  for (const row of rows) {
    if (row === undefined) continue;
    const ordered = [...row].sort((a, b) => a.position.x - b.position.x || a.position.y - b.position.y);
    const widthOf = (node: LayoutNode) => node.width ?? options.width;
    const rowWidth =
      ordered.reduce((sum, node) => sum + widthOf(node), 0) + (ordered.length - 1) * options.gapX;
    let x = -rowWidth / 2;
    for (const node of ordered) {
      positions.set(node.id, { x, y });
      x += widthOf(node) + options.gapX;
    }
    y += Math.max(...ordered.map((node) => node.height ?? options.defaultHeight)) + options.gapY;
  }
  return positions;
}

import { describe, expect, it } from 'vitest';
import { shortVideoGraph } from '../graph/short-video-graph.ts';
import { depthsOf, VERTICAL_LAYOUT, verticalLayout } from './vertical-layout.ts';

const template = shortVideoGraph();
const nodes = template.nodes.map((node) => ({ id: node.id, position: node.position ?? { x: 0, y: 0 } }));
const edges = template.edges ?? [];

describe('verticalLayout', () => {
  it('stacks the five-step template top to bottom in its order, in one centred column', () => {
    const positions = verticalLayout(nodes, edges);
    const column = ['prompt', 'enhance', 'image', 'video', 'output'].map((id) => positions.get(id));
    expect(column.map((position) => position?.x)).toEqual(Array(5).fill(-VERTICAL_LAYOUT.width / 2));
    const ys = column.map((position) => position?.y ?? Number.NaN);
    expect(ys[0]).toBe(0);
    for (let index = 1; index < ys.length; index++)
      expect(ys[index]).toBe((ys[index - 1] ?? 0) + VERTICAL_LAYOUT.defaultHeight + VERTICAL_LAYOUT.gapY);
  });

  it('makes each row as tall as its tallest measured node, so cards never overlap', () => {
    const measured = nodes.map((node) => ({ ...node, height: node.id === 'output' ? 500 : 180 }));
    const positions = verticalLayout(measured, edges, { width: 240, defaultHeight: 0, gapX: 40, gapY: 50 });
    expect(positions.get('enhance')?.y).toBe(230);
    expect(positions.get('output')?.y).toBe(4 * 230);
  });

  it('centres a node wider than the others on the column', () => {
    const wide = nodes.map((node) => (node.id === 'output' ? { ...node, width: 280 } : node));
    const positions = verticalLayout(wide, edges);
    expect(positions.get('output')?.x).toBe(-140);
    expect(positions.get('video')?.x).toBe(-120);
  });

  it('puts nodes of the same depth side by side, ordered as on the desktop canvas', () => {
    const branched = [
      { id: 'p', position: { x: 0, y: 0 } },
      { id: 'b', position: { x: 300, y: 200 } },
      { id: 'a', position: { x: 300, y: 0 } },
    ];
    const positions = verticalLayout(branched, [
      { source: 'p', target: 'a' },
      { source: 'p', target: 'b' },
    ]);
    expect(positions.get('p')).toEqual({ x: -120, y: 0 });
    expect(positions.get('a')).toEqual({ x: -260, y: 276 });
    expect(positions.get('b')).toEqual({ x: 20, y: 276 });
  });
});

describe('depthsOf', () => {
  it('places a node below its deepest input, ignores unknown nodes and survives a cycle', () => {
    expect(Object.fromEntries(depthsOf(nodes, edges))).toEqual({
      prompt: 0,
      enhance: 1,
      image: 2,
      video: 3,
      output: 4,
    });
    const depths = depthsOf(
      [
        { id: 'a', position: { x: 0, y: 0 } },
        { id: 'b', position: { x: 0, y: 0 } },
        { id: 'c', position: { x: 0, y: 0 } },
      ],
      [
        { source: 'a', target: 'b' },
        { source: 'b', target: 'c' },
        { source: 'c', target: 'b' },
        { source: 'ghost', target: 'a' },
      ],
    );
    expect(depths.get('a')).toBe(0);
    expect(depths.get('b')).toBeGreaterThan(0);
    expect(depths.get('c')).toBeGreaterThan(0);
  });
});

/**
 * a → b → c, three `step` nodes costing 2, 3 and 1 credits (`config.cost`), each feeding the next
 * through `out` → `in`: the chain the resume and reservation tests run.
 */
export const stepChain = {
  version: 1,
  nodes: [
    { id: 'a', type: 'step', config: { cost: 2 } },
    { id: 'b', type: 'step', config: { cost: 3 } },
    { id: 'c', type: 'step', config: { cost: 1 } },
  ],
  edges: [
    { id: 'ab', source: 'a', sourceHandle: 'out', target: 'b', targetHandle: 'in' },
    { id: 'bc', source: 'b', sourceHandle: 'out', target: 'c', targetHandle: 'in' },
  ],
};

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdIndex } from './id-index.ts';

describe('IdIndex', () => {
  it('indexes ids like a Map keeping first positions', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 6 }), { maxLength: 60 }),
        fc.array(fc.string({ maxLength: 6 })),
        (ids, probes) => {
          const index = new IdIndex(ids.map((id) => ({ id })));
          const map = new Map<string, number>();
          ids.forEach((id, position) => {
            expect(index.add(position)).toBe(map.get(id) ?? -1);
            if (!map.has(id)) map.set(id, position);
          });
          for (const id of [...ids, ...probes]) expect(index.get(id)).toBe(map.get(id) ?? -1);
        },
      ),
      { numRuns: 500 },
    );
  });
});

/** Seeds the hash per process, so ids cannot be chosen in advance to collide. */
const SEED = (Math.random() * 0x1_0000_0000) >>> 0;

/**
 * The positions of items in a list by their `id`: an open-addressing hash table of positions in a
 * typed array, sized once for the list. Analysing a graph indexes every node id and every edge id;
 * this does it several times faster than a `Map` or `Set`, which grow by rehashing as they fill
 * (and, past a few thousand entries, live in V8's large-object space). @internal
 */
export class IdIndex {
  readonly #items: readonly { readonly id: string }[];
  /** Per slot: a position + 1, or 0 when the slot is free. */
  readonly #slots: Int32Array;
  readonly #mask: number;

  /** An empty index over `items`: {@link IdIndex.add} indexes them one by one. */
  constructor(items: readonly { readonly id: string }[]) {
    let capacity = 8;
    while (capacity < items.length * 2) capacity *= 2;
    this.#items = items;
    this.#slots = new Int32Array(capacity);
    this.#mask = capacity - 1;
  }

  /** Indexes the item at `position` unless an earlier item has its id; returns that one's position, or -1. */
  add(position: number): number {
    const id = this.#items[position]!.id;
    const slots = this.#slots;
    for (let slot = hash(id) & this.#mask; ; slot = (slot + 1) & this.#mask) {
      const stored = slots[slot]!;
      if (stored === 0) {
        slots[slot] = position + 1;
        return -1;
      }
      if (this.#items[stored - 1]!.id === id) return stored - 1;
    }
  }

  /** The position of the indexed item with this id, or -1. */
  get(id: string): number {
    const slots = this.#slots;
    for (let slot = hash(id) & this.#mask; ; slot = (slot + 1) & this.#mask) {
      const stored = slots[slot]!;
      if (stored === 0) return -1;
      if (this.#items[stored - 1]!.id === id) return stored - 1;
    }
  }
}

/** FNV-1a over UTF-16 code units from a random basis, then murmur3's finaliser to spread the bits. */
function hash(id: string): number {
  let h = SEED ^ 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

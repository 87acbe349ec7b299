/**
 * The run slots of one run: up to `limit` items (nodes) run at once, the others wait in FIFO order.
 * A counter and two arrays, with no closure or promise per waiting item. @internal
 */
export class RunSlots<T> {
  readonly #limit: number;
  readonly #run: (item: T, onSettled: (() => void) | undefined) => void;
  #active = 0;
  readonly #waiting: T[] = [];
  /** What to call once each waiting item has settled (key-limited nodes free their key slot). */
  readonly #onSettled: ((() => void) | undefined)[] = [];
  #head = 0;

  /** `run` starts an item in a slot; whoever runs it calls {@link RunSlots.free} once it settles. */
  constructor(limit: number, run: (item: T, onSettled: (() => void) | undefined) => void) {
    this.#limit = limit;
    this.#run = run;
  }

  /** Runs `item` now if a slot is free, else queues it. */
  take(item: T, onSettled: (() => void) | undefined): void {
    if (this.#active < this.#limit) {
      this.#active++;
      this.#run(item, onSettled);
      return;
    }
    this.#waiting.push(item);
    this.#onSettled.push(onSettled);
  }

  /** Frees a slot: the longest-waiting item, if any, runs in it. */
  free(): void {
    this.#active--;
    if (this.#head === this.#waiting.length) return;
    const item = this.#waiting[this.#head]!;
    const onSettled = this.#onSettled[this.#head];
    this.#onSettled[this.#head++] = undefined;
    this.#active++;
    this.#run(item, onSettled);
  }
}

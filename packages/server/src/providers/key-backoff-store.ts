/** Where a provider key's shared back-off stands. */
export interface KeyBackoffState {
  /** How long calls with the key must still wait, in ms; 0 when they may go. */
  readonly waitMs: number;
  /**
   * Consecutive back-offs: 429s that arrived after the previous back-off had ended. 0 once a call
   * succeeds after a back-off.
   */
  readonly strikes: number;
}

/**
 * The shared back-off of provider keys after a 429, by key hash (`providerKeyHash`), never by key.
 * In memory for one process (`createMemoryKeyBackoffStore`) or in the database for workers on
 * several machines (`createSqlKeyBackoffStore`). Times are durations from the store's own clock, so
 * machines need not agree on the time.
 */
export interface KeyBackoffStore {
  /** The key's back-off now. A store may answer from a short cache (see each implementation). */
  read(keyHash: string): Promise<KeyBackoffState>;
  /**
   * Records a 429. When no back-off is running this is a new strike (strikes + 1); during one the
   * strikes stay, since the call was sent before the back-off began. `delayFor(strikes)` is the
   * back-off for the resulting count, in ms; the back-off ends at the later of its current end and
   * now + that delay. Resolves with the new state.
   */
  strike(keyHash: string, delayFor: (strikes: number) => number): Promise<KeyBackoffState>;
  /**
   * Records a success: forgets the strikes, unless a back-off is running (a call sent before it
   * began may still succeed; that does not lift it).
   */
  clear(keyHash: string): Promise<void>;
}

/** How many connections a pool has, now. */
export interface DatabasePoolCounts {
  /** Connections open (in use or idle). */
  readonly open: number;
  /** Connections open and not in use. */
  readonly idle: number;
  /** Callers waiting for a connection (all of them in use, and no more may open). */
  readonly waiting: number;
  /** The most connections the pool opens (`VIDGENIE_DB_POOL_SIZE`). */
  readonly max: number;
}

/**
 * A PostgreSQL connection pool's figures, for metrics: when statements slow down under load, the
 * first question is whether they wait for a connection or for the database.
 */
export interface DatabasePool {
  /** The counts at this moment. */
  counts(): DatabasePoolCounts;
  /**
   * Calls `listener` with each connection handed out: how long its caller waited, in seconds.
   * Returns the function that stops it.
   */
  onAcquire(listener: (waitSeconds: number) => void): () => void;
}

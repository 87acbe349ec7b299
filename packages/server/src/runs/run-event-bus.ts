/** A run event as stored and streamed: the engine's event, under its gap-free `seq`. */
export interface StoredRunEvent {
  readonly seq: number;
  readonly type: string;
  /** The engine's event as emitted (`type`, `runId`, `seq`, `at` and its payload). */
  readonly payload: Readonly<Record<string, unknown>>;
}

/** What a follower of one run hears. */
export interface RunEventListener {
  /** Events just stored, in `seq` order. */
  onEvents(events: readonly StoredRunEvent[]): void;
  /** The run's row reached its final status: no event will follow. */
  onEnd(): void;
}

/**
 * In-process fan-out of stored run events, keyed by run id. Events are published only after they
 * are committed, so a follower that subscribes first and then reads the table misses nothing (it
 * drops the duplicates by `seq`). Across machines this becomes Postgres `LISTEN/NOTIFY`.
 */
export interface RunEventBus {
  /** Follows one run until the returned function is called. */
  subscribe(runId: string, listener: RunEventListener): () => void;
  publish(runId: string, events: readonly StoredRunEvent[]): void;
  /** Tells the run's followers that it has ended. */
  end(runId: string): void;
  /**
   * Hears every run's stored events as they are published (metrics, analytics), until the
   * returned function is called. A tap that throws is isolated like any follower.
   */
  tap(listener: (runId: string, events: readonly StoredRunEvent[]) => void): () => void;
  /** Whether anyone in this process follows the run (the cross-machine bridge reads only those). */
  isFollowed(runId: string): boolean;
}

/**
 * Creates an in-process {@link RunEventBus}. A listener that throws is isolated from the others.
 *
 * @example
 * ```ts
 * import { createRunEventBus } from '@vidgenie/server';
 * const bus = createRunEventBus();
 * const stop = bus.subscribe('run-1', { onEvents: (events) => console.log(events.length), onEnd: () => {} });
 * bus.publish('run-1', [{ seq: 1, type: 'run.started', payload: {} }]); // logs 1
 * stop();
 * ```
 */
export function createRunEventBus(): RunEventBus {
  const listeners = new Map<string, Set<RunEventListener>>();
  const taps = new Set<(runId: string, events: readonly StoredRunEvent[]) => void>();
  const each = (runId: string, call: (listener: RunEventListener) => void) => {
    for (const listener of [...(listeners.get(runId) ?? [])]) {
      try {
        call(listener);
      } catch {
        // One broken follower (a closed stream) must not stop the others.
      }
    }
  };
  return Object.freeze({
    subscribe(runId: string, listener: RunEventListener) {
      let set = listeners.get(runId);
      if (set === undefined) {
        set = new Set();
        listeners.set(runId, set);
      }
      set.add(listener);
      return () => {
        const current = listeners.get(runId);
        current?.delete(listener);
        if (current?.size === 0) listeners.delete(runId);
      };
    },
    publish(runId: string, events: readonly StoredRunEvent[]) {
      if (events.length === 0) return;
      each(runId, (listener) => listener.onEvents(events));
      for (const tap of [...taps]) {
        try {
          tap(runId, events);
        } catch {
          // A broken tap must not stop the followers.
        }
      }
    },
    end(runId: string) {
      each(runId, (listener) => listener.onEnd());
    },
    isFollowed: (runId: string) => listeners.has(runId),
    tap(listener: (runId: string, events: readonly StoredRunEvent[]) => void) {
      taps.add(listener);
      return () => {
        taps.delete(listener);
      };
    },
  });
}

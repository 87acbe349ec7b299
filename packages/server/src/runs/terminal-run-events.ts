/** The event types that end a run: the last event of every run's stream. */
export const TERMINAL_RUN_EVENT_TYPES: ReadonlySet<string> = new Set([
  'run.completed',
  'run.failed',
  'run.cancelled',
]);

/**
 * Whether an event type ends a run (`run.completed`, `run.failed`, `run.cancelled`).
 *
 * @example
 * ```ts
 * import { isTerminalRunEvent } from '@vidgenie/server';
 * isTerminalRunEvent('run.failed'); // true
 * isTerminalRunEvent('node.completed'); // false
 * ```
 */
export function isTerminalRunEvent(type: string): boolean {
  return TERMINAL_RUN_EVENT_TYPES.has(type);
}

/**
 * Turns run events into one readable line each: sequence number, type, node, details. A server
 * would send the same events to a browser over SSE or a WebSocket instead.
 */
import type { RunEvent } from '@vidgenie/engine';

export function formatEvent(event: RunEvent): string {
  const node = 'nodeId' in event && event.nodeId !== undefined ? event.nodeId : '-';
  return `  #${String(event.seq).padStart(2)}  ${event.type.padEnd(14)} ${node.padEnd(9)} ${details(event)}`;
}

/** `RunEvent` is a union discriminated by `type`: each case sees its own payload's fields. */
function details(event: RunEvent): string {
  switch (event.type) {
    case 'run.started':
      return `${event.nodeCount} nodes, ${event.estimatedCost} credits left to run${event.resumed ? ' (resumed)' : ''}`;
    case 'node.started':
      return `attempt ${event.attempt}`;
    case 'node.progress':
      return `${Math.round(event.fraction * 100)}%${event.message === undefined ? '' : ` ${event.message}`}`;
    case 'node.retrying':
      return `attempt ${event.attempt} failed (${event.error.message}); next in ${event.delayMs} ms`;
    case 'node.completed':
      return `${event.cost} credits, output ${preview(event.output)}`;
    case 'node.cached':
      return `reused from the ${event.source}, ${event.saved} credits saved`;
    case 'node.failed':
      return `${event.error.code}: ${event.error.message}`;
    case 'node.cancelled':
      return event.reason;
    case 'node.skipped':
      return event.causeNodeId === undefined ? event.reason : `${event.reason} (${event.causeNodeId})`;
    case 'cost.reserved':
      return `${event.amount} credits held as ${event.reservationId ?? '(no id)'}`;
    case 'cost.captured':
      return `${event.amount} credits charged`;
    case 'cost.released':
      return `${event.amount} credits returned`;
    case 'run.completed':
      return `${event.captured} credits charged in total`;
    case 'run.failed':
      return `${event.error.code}: ${event.error.message}`;
    case 'run.cancelled':
      return event.reason;
  }
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > 48 ? `${text.slice(0, 47)}…` : text;
}

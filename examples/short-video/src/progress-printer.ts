import type { RunEvent } from '@vidgenie/engine';

/** Prints one readable line per meaningful event; progress is printed at most every 10%. */
export function createProgressPrinter(write: (line: string) => void) {
  const lastDecile = new Map<string, number>();
  return (event: RunEvent): void => {
    switch (event.type) {
      case 'run.started':
        write(
          `▶ run ${event.runId.slice(0, 8)}: ${event.nodeCount} nodes, estimated ${event.estimatedCost} credits`,
        );
        break;
      case 'node.started':
        write(`  ${event.nodeId.padEnd(8)} started${event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}`);
        break;
      case 'node.progress': {
        const decile = Math.floor(event.fraction * 10);
        if (decile === lastDecile.get(event.nodeId) || (decile === 10 && event.message === undefined)) break;
        lastDecile.set(event.nodeId, decile);
        const bar = '█'.repeat(decile).padEnd(10, '·');
        write(
          `  ${event.nodeId.padEnd(8)} ${bar} ${Math.round(event.fraction * 100)}%${event.message ? ` ${event.message}` : ''}`,
        );
        break;
      }
      case 'node.retrying':
        write(`  ${event.nodeId.padEnd(8)} retrying in ${event.delayMs} ms: ${event.error.message}`);
        break;
      case 'node.completed':
        write(`✓ ${event.nodeId.padEnd(8)} done in ${(event.durationMs / 1000).toFixed(1)} s`);
        break;
      case 'node.failed':
        write(`✗ ${event.nodeId.padEnd(8)} failed: ${event.error.message}`);
        break;
      case 'node.skipped':
        write(`- ${event.nodeId.padEnd(8)} skipped (${event.reason})`);
        break;
      case 'run.completed':
        write(`■ finished in ${(event.durationMs / 1000).toFixed(1)} s`);
        break;
      case 'run.failed':
        write(`■ failed: ${event.error.message}`);
        break;
      case 'run.cancelled':
        write(`■ cancelled: ${event.reason}`);
        break;
      default:
        break;
    }
  };
}

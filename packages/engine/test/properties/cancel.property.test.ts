import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine, type RunEvent, type RunHandle } from '../../src/index.ts';
import {
  type DagSpec,
  dagArb,
  fcParams,
  fractionArb,
  type NodeProbe,
  quiesce,
  registry,
  scale,
  toGraph,
} from './random-dag.ts';

const fraction = fractionArb;

/** Where the cancel comes from. */
type CancelHow =
  /** From the listener of the k-th `node.started` event: synchronously, or a microtask later. */
  | { readonly kind: 'started'; readonly fraction: number; readonly sync: boolean }
  /** Synchronously from the listener of the k-th `node.completed` event. */
  | { readonly kind: 'completed'; readonly fraction: number }
  /** From inside the body of a random node, on entry or just before it returns. */
  | { readonly kind: 'body'; readonly fraction: number; readonly atExit: boolean };

/**
 * Runs a random DAG, cancels it as told, and checks that no `node.started` event and no node body
 * entry comes after the cancel call, and that the run ends cancelled.
 */
async function checkCancel(spec: DagSpec, concurrency: number, how: CancelHow): Promise<void> {
  let clock = 0;
  let cancelledAt: number | undefined;
  const late: string[] = [];
  let handle: RunHandle | undefined;
  const cancel = () => {
    if (cancelledAt !== undefined) return;
    cancelledAt = ++clock;
    handle!.cancel('property test');
  };
  const target = how.kind === 'body' ? spec.nodes[scale(how.fraction, 0, spec.nodes.length - 1)]!.id : '';
  const probe: NodeProbe = {
    enter: (id) => {
      clock++;
      if (cancelledAt !== undefined) late.push(`body of ${id} entered after the cancel`);
      if (how.kind === 'body' && !how.atExit && id === target) cancel();
    },
    exit: (id) => {
      if (how.kind === 'body' && how.atExit && id === target) cancel();
    },
  };
  const events: RunEvent[] = [];
  const engine = createEngine({ registry, concurrency, services: { probe } });
  handle = engine.start(toGraph(spec));
  const k = how.kind === 'body' ? 0 : scale(how.fraction, 1, spec.nodes.length);
  let started = 0;
  let completed = 0;
  handle.on('event', (event) => {
    events.push(event);
    if (event.type === 'node.started') {
      clock++;
      if (cancelledAt !== undefined) late.push(`node.started of ${event.nodeId} after the cancel`);
      if (how.kind === 'started' && ++started === k) {
        if (how.sync) cancel();
        else queueMicrotask(cancel);
      }
    } else if (event.type === 'node.completed') {
      if (how.kind === 'completed' && ++completed === k) cancel();
    }
  });
  const outcome = await handle.result;
  await quiesce(3);

  expect(cancelledAt).toBeDefined();
  expect(late).toEqual([]);
  expect(outcome.status).toBe('cancelled');
  expect(events.at(-1)?.type).toBe('run.cancelled');
}

describe('cancellation properties (random DAGs)', () => {
  it('starts no node after a cancel from a node body, a node.completed listener or later', async () => {
    const how: fc.Arbitrary<CancelHow> = fc.oneof(
      fc.record({ kind: fc.constant('started' as const), fraction, sync: fc.constant(false) }),
      fc.record({ kind: fc.constant('completed' as const), fraction }),
      fc.record({ kind: fc.constant('body' as const), fraction, atExit: fc.boolean() }),
    );
    await fc.assert(
      fc.asyncProperty(
        dagArb({ maxNodes: 200, macrotaskPerMille: 300 }),
        fc.integer({ min: 1, max: 8 }),
        how,
        checkCancel,
      ),
      fcParams(80),
    );
  }, 60_000);

  // Regression guard. Failed on fc78c99: `executeNode` emitted `node.started`, then called the
  // node's `run` without checking whether a listener of that event had stopped the run.
  it('starts no node body after a cancel from a node.started listener', async () => {
    await fc.assert(
      fc.asyncProperty(
        dagArb({ maxNodes: 100, macrotaskPerMille: 300 }),
        fc.integer({ min: 1, max: 8 }),
        fc.record({ kind: fc.constant('started' as const), fraction, sync: fc.constant(true) }),
        checkCancel,
      ),
      fcParams(50),
    );
  }, 60_000);
});

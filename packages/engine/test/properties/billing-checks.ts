/** Shared pieces of the billing properties: arbitraries, a run against a ledger, ledger checks. */
import fc from 'fast-check';
import { expect } from 'vitest';
import {
  type BillingHooks,
  createEngine,
  type FailurePolicy,
  type RunEvent,
  type RunHandle,
  type RunOutcome,
  type RunSnapshot,
} from '../../src/index.ts';
import {
  createLedger,
  type DagSpec,
  dagArb,
  type Hold,
  type Ledger,
  type NodeProbe,
  nodeIdOf,
  registry,
  releaseKeyOf,
  toGraph,
} from './random-dag.ts';

export const specArb = dagArb({ maxNodes: 120, maxCost: 20, failPerMille: 40, macrotaskPerMille: 300 });
export const policyArb = fc.constantFrom<FailurePolicy>('finish-branches', 'stop-all');
export const delaysArb = fc.array(fc.nat({ max: 2 }), { maxLength: 6 });

export const costOf = (spec: DagSpec) => new Map(spec.nodes.map((n) => [n.id, n.cost]));
export const totalCost = (spec: DagSpec) => spec.nodes.reduce((sum, n) => sum + n.cost, 0);
export const sum = (xs: Iterable<number>) => {
  let total = 0;
  for (const x of xs) total += x;
  return total;
};

export interface BillingRun {
  readonly ledger: Ledger;
  readonly outcome: RunOutcome;
  readonly events: readonly RunEvent[];
  readonly entries: number;
}

export async function runWithLedger(args: {
  readonly spec: DagSpec;
  readonly policy: FailurePolicy;
  readonly concurrency: number;
  readonly delays: readonly number[];
  readonly refuse?: boolean;
  /** Cancel synchronously from the listener of the k-th event (of any type), if there is one. */
  readonly cancelAtEvent?: number;
  /**
   * Cancel while the host's `reserve` is pending: synchronously inside the call (`sync`), or a
   * microtask after it returned its promise (`async`).
   */
  readonly cancelInReserve?: 'sync' | 'async';
}): Promise<BillingRun> {
  const ledger = createLedger({ delays: args.delays, refuse: args.refuse ?? false });
  let entries = 0;
  const probe: NodeProbe = {
    enter: () => {
      entries++;
    },
  };
  let handle: RunHandle | undefined;
  const billing: BillingHooks =
    args.cancelInReserve === undefined
      ? ledger.hooks
      : {
          ...ledger.hooks,
          reserve: (reserveArgs) => {
            const placed = ledger.hooks.reserve(reserveArgs);
            const cancel = () => handle!.cancel('property test');
            if (args.cancelInReserve === 'sync') cancel();
            else queueMicrotask(cancel);
            return placed;
          },
        };
  const engine = createEngine({
    registry,
    concurrency: args.concurrency,
    failurePolicy: args.policy,
    billing,
    services: { probe },
  });
  const events: RunEvent[] = [];
  handle = engine.start(toGraph(args.spec), {
    onEvent: (event) => {
      events.push(event);
      if (events.length === args.cancelAtEvent) handle!.cancel('property test');
    },
  });
  const outcome = await handle.result;
  return { ledger, outcome, events, entries };
}

/**
 * The ledger invariants of one run that reserved credits: one hold for the estimate, captured plus
 * released equals the hold, one release, captures (deduplicated) exactly for the nodes that
 * succeeded by running, none for failed, skipped or cancelled nodes, and an outcome that agrees.
 */
export function checkLedger(args: {
  readonly spec: DagSpec;
  readonly ledger: Ledger;
  readonly outcome: RunOutcome;
  readonly events: readonly RunEvent[];
  /** The nodes that succeeded by running (their output is the run's). */
  readonly succeeded: ReadonlySet<string>;
  /** The run went through a crash: a release lost in it may be repeated (with the same key). */
  readonly crashed?: boolean;
  /** The run may have been cancelled before it asked for a hold. */
  readonly mayEndUnreserved?: boolean;
}): void {
  const { spec, ledger, outcome, events, succeeded } = args;
  const cost = costOf(spec);
  expect(ledger.anomalies).toEqual([]);
  const holds = [...ledger.holds.values()];
  if (totalCost(spec) === 0) {
    expect(ledger.reserveCalls).toEqual([]);
    expect(holds).toEqual([]);
    expect(ledger.releaseCalls).toEqual([]);
    return;
  }
  if (holds.length === 0 && args.mayEndUnreserved === true) {
    // Cancelled before the hold was asked for: nothing was charged or released, and nothing paid ran.
    expect(ledger.captureCalls).toEqual([]);
    expect(ledger.releaseCalls).toEqual([]);
    expect([...succeeded].filter((id) => cost.get(id)! > 0)).toEqual([]);
    expect(outcome.cost).toMatchObject({ reserved: 0, captured: 0, released: 0 });
    return;
  }
  expect(holds, 'one hold per run').toHaveLength(1);
  const hold = holds[0]!;
  expect(hold.amount).toBe(totalCost(spec));
  checkRelease(ledger, hold, args.crashed === true);
  expect(hold.captured + hold.released, 'reserved == captured + released').toBe(hold.amount);

  const capturedIds = ledger.captures.map((c) => c.nodeId);
  expect(new Set(capturedIds).size, 'one capture per node').toBe(capturedIds.length);
  for (const c of ledger.captures) expect(c.amount, `capture amount of ${c.nodeId}`).toBe(cost.get(c.nodeId));
  const paid = [...succeeded].filter((id) => cost.get(id)! > 0).sort();
  expect([...capturedIds].sort(), 'captures are exactly the succeeded nodes').toEqual(paid);
  expect(hold.captured).toBe(sum(paid.map((id) => cost.get(id)!)));

  // Nodes that did not succeed (failed, skipped, or cancelled: not among the outputs) are never
  // captured; the previous check already ties captures to the succeeded nodes.
  const notSucceeded = new Set<string>();
  for (const e of events) {
    if (e.type === 'node.failed' || e.type === 'node.skipped') notSucceeded.add(nodeIdOf(e)!);
  }
  for (const n of spec.nodes) if (n.fail || !succeeded.has(n.id)) notSucceeded.add(n.id);
  const wrongly = capturedIds.filter((id) => notSucceeded.has(id));
  expect(wrongly, 'no capture for failed, skipped or cancelled nodes').toEqual([]);

  expect(outcome.cost.reserved).toBe(hold.amount);
  expect(outcome.cost.captured).toBe(hold.captured);
  expect(outcome.cost.released).toBe(hold.released);
}

/**
 * The hold is released exactly once. Without a crash `release` is called once; after one, a call
 * whose result was lost may be repeated, with the same idempotency key and amount.
 */
export function checkRelease(ledger: Ledger, hold: Hold, crashed: boolean): void {
  expect(hold.releases, 'the hold is released exactly once').toBe(1);
  if (!crashed) expect(ledger.releaseCalls, 'release is called exactly once per run').toHaveLength(1);
  const first = ledger.releaseCalls[0]!;
  for (const call of ledger.releaseCalls) {
    expect(releaseKeyOf(call), 'a repeated release keeps its idempotency key').toBe(releaseKeyOf(first));
    expect(call.amount, 'a repeated release keeps its amount').toBe(first.amount);
  }
}

/**
 * Nodes with a `node.completed` event, plus those a resume restored as completed; checks they are
 * exactly the outcome's outputs.
 */
export function succeededIn(
  events: readonly RunEvent[],
  outcome: RunOutcome,
  restored?: RunSnapshot,
): Set<string> {
  const completed = new Set<string>();
  for (const e of events) if (e.type === 'node.completed') completed.add(e.nodeId);
  for (const node of restored?.nodes ?? []) if (node.status === 'completed') completed.add(node.nodeId);
  expect([...completed].sort()).toEqual(Object.keys(outcome.outputs).sort());
  return completed;
}

/** Nodes reported `node.cancelled` that still completed or were charged. */
export function cancelledButCharged(events: readonly RunEvent[], ledger: Ledger): string[] {
  const cancelled = new Set<string>();
  for (const e of events) if (e.type === 'node.cancelled') cancelled.add(e.nodeId);
  const completed = new Set<string>();
  for (const e of events) if (e.type === 'node.completed') completed.add(e.nodeId);
  const charged = new Set(ledger.captures.map((c) => c.nodeId));
  return [...cancelled].filter((id) => completed.has(id) || charged.has(id)).sort();
}

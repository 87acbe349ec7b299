/**
 * Arbitraries and harnesses shared by the engine's property tests: random DAGs over one node type,
 * probes that watch node bodies, a billing ledger, and "kill switch" wrappers that freeze an engine
 * instance as if its process had died.
 */
import fc from 'fast-check';
import { z } from 'zod';
import {
  type BillingHooks,
  type CheckpointStore,
  createNodeRegistry,
  defineNode,
  InsufficientCreditsError,
  NonRetryableError,
  type RunEvent,
  requireServices,
  type WorkflowGraphInput,
} from '../../src/index.ts';

// ---------------------------------------------------------------------------------------------
// fast-check settings

/**
 * fast-check parameters for one property. fast-check reports the seed and path of a failure; set
 * `FC_SEED` (and `FC_PATH`) to replay one, `FC_RUNS` to change the number of runs. A run that takes
 * over 5 s (a hung engine) counts as a failure, and shrinking stops after 40 s so the counterexample
 * and seed are still reported before the test's own timeout.
 */
export function fcParams(numRuns: number): fc.Parameters<unknown> {
  const seed = process.env.FC_SEED;
  const path = process.env.FC_PATH;
  const runs = process.env.FC_RUNS;
  return {
    numRuns: runs === undefined ? numRuns : Number(runs),
    timeout: 5_000,
    interruptAfterTimeLimit: 40_000,
    markInterruptAsFailure: true,
    ...(seed === undefined ? {} : { seed: Number(seed) }),
    ...(path === undefined ? {} : { path }),
  };
}

// ---------------------------------------------------------------------------------------------
// The node type

/** The data input ports random DAGs connect (each takes at most one edge). */
export const INPUT_PORTS = ['a', 'b', 'c', 'd'] as const;
/** An extra optional input, used only by the cycle property for back edges. */
export const BACK_PORT = 'loop';
const ALL_PORTS = [...INPUT_PORTS, BACK_PORT] as const;

/** The config of a generated node. */
export interface GenConfig {
  /** The node's own value; its output is a deterministic function of it and the inputs. */
  readonly v: number;
  /** Its price in credits. */
  readonly cost: number;
  /** Its concurrency key, if any. */
  readonly key?: string | undefined;
  /** Whether it throws `NonRetryableError`. */
  readonly fail: boolean;
  /** Yields before finishing: 0 = a microtask, 1 = a macrotask (`setImmediate`). */
  readonly delay: readonly number[];
}

/** What a test watches inside node bodies. All optional. */
export interface NodeProbe {
  /** Called first thing in a body. */
  enter?(nodeId: string, config: GenConfig): void;
  /** Called just before the body returns (or throws, for failing nodes). */
  exit?(nodeId: string, config: GenConfig): void;
  /** Asked on entry, after every yield and before exit: `true` makes the body never settle. */
  frozen?(): boolean;
}

/** Services of the generated node type. */
export interface GenServices {
  readonly probe: NodeProbe;
}

const never = (): Promise<never> => new Promise<never>(() => {});
const macrotask = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

/** The output of a node: a deterministic function of its value and its inputs. */
export function computeOut(v: number, input: Readonly<Partial<Record<string, number>>>): number {
  let acc = v;
  ALL_PORTS.forEach((port, i) => {
    const x = input[port];
    if (x !== undefined) acc = (acc * 31 + x * (i + 2)) % 1_000_003;
  });
  return acc;
}

/** The one node type of the random DAGs. */
export const genNode = defineNode({
  type: 'prop.gen',
  version: 1,
  input: z.object({
    a: z.number().optional(),
    b: z.number().optional(),
    c: z.number().optional(),
    d: z.number().optional(),
    loop: z.number().optional(),
  }),
  output: z.object({ out: z.number() }),
  config: z.object({
    v: z.number().int(),
    cost: z.number().int().min(0).default(0),
    key: z.string().optional(),
    fail: z.boolean().default(false),
    delay: z.array(z.number().int().min(0).max(1)).default([]),
  }),
  services: requireServices<GenServices>(),
  estimateCost: ({ config }) => config.cost,
  concurrencyKey: ({ config }) => config.key,
  async run({ input, config, services, nodeId }) {
    const { probe } = services;
    probe.enter?.(nodeId, config);
    if (probe.frozen?.() === true) return never();
    for (const kind of config.delay) {
      await (kind === 0 ? Promise.resolve() : macrotask());
      if (probe.frozen?.() === true) return never();
    }
    probe.exit?.(nodeId, config);
    if (config.fail) throw new NonRetryableError(`Node ${nodeId} fails on purpose.`);
    return { out: computeOut(config.v, input) };
  },
});

/** The registry every property uses. */
export const registry = createNodeRegistry([genNode]);

// ---------------------------------------------------------------------------------------------
// Random DAGs

/** A generated node, at its topological index. */
export interface SpecNode {
  readonly id: string;
  readonly v: number;
  readonly cost: number;
  readonly key?: string;
  readonly fail: boolean;
  readonly delay: readonly number[];
}

/** An edge from a lower to a higher index, into one input port of the target. */
export interface SpecEdge {
  readonly from: number;
  readonly to: number;
  readonly port: string;
}

/** A random DAG: nodes in topological order, and the order the graph JSON lists them in. */
export interface DagSpec {
  readonly nodes: readonly SpecNode[];
  readonly edges: readonly SpecEdge[];
  /** A permutation of node indices: the order of `nodes` in the graph JSON. */
  readonly nodeOrder: readonly number[];
  /** A permutation of edge indices: the order of `edges` in the graph JSON. */
  readonly edgeOrder: readonly number[];
}

export interface DagArbOptions {
  readonly minNodes?: number;
  readonly maxNodes: number;
  /** Give nodes random costs in [0, maxCost]. Default: all free. */
  readonly maxCost?: number;
  /** Per-mille chance of a node failing with `NonRetryableError`. Default 0. */
  readonly failPerMille?: number;
  /** The number of distinct concurrency keys (some nodes get none). Default 0: no keys. */
  readonly keys?: number;
  /** Per-mille chance of a yield being a macrotask rather than a microtask. Default 150. */
  readonly macrotaskPerMille?: number;
}

/** A small deterministic PRNG (mulberry32), for shuffles derived from a generated seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A permutation of 0..n-1; seed 0 gives the identity (so shrinking ends on ordered graphs). */
function permutation(n: number, seed: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  if (seed === 0) return order;
  const random = prng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** Random DAGs: each node picks up to four distinct lower-index parents, one per input port. */
export function dagArb(options: DagArbOptions): fc.Arbitrary<DagSpec> {
  const maxCost = options.maxCost ?? 0;
  const failPerMille = options.failPerMille ?? 0;
  const keys = options.keys ?? 0;
  const macro = options.macrotaskPerMille ?? 150;
  const nodeArb = fc.record({
    name: fc.stringMatching(/^[a-z][a-z0-9]{0,4}$/),
    parents: fc.uniqueArray(fc.nat({ max: 10_000 }), { maxLength: INPUT_PORTS.length }),
    portShift: fc.nat({ max: INPUT_PORTS.length - 1 }),
    v: fc.integer({ min: -1000, max: 1000 }),
    cost: maxCost > 0 ? fc.nat({ max: maxCost }) : fc.constant(0),
    key: keys > 0 ? fc.option(fc.nat({ max: keys - 1 }), { nil: undefined }) : fc.constant(undefined),
    fail: failPerMille > 0 ? fc.nat({ max: 999 }).map((x) => x < failPerMille) : fc.constant(false),
    delay: fc.array(
      fc.nat({ max: 999 }).map((x) => (x < macro ? 1 : 0)),
      { maxLength: 3 },
    ),
  });
  return fc
    .record({
      raw: fc.array(nodeArb, { minLength: options.minNodes ?? 1, maxLength: options.maxNodes, size: 'max' }),
      nodeSeed: fc.nat(),
      edgeSeed: fc.nat(),
    })
    .map(({ raw, nodeSeed, edgeSeed }) => {
      const nodes: SpecNode[] = [];
      const edges: SpecEdge[] = [];
      raw.forEach((r, i) => {
        nodes.push({
          id: `${r.name}-${i}`,
          v: r.v,
          cost: r.cost,
          ...(r.key === undefined ? {} : { key: `k${r.key}` }),
          fail: r.fail,
          delay: r.delay,
        });
        if (i === 0) return;
        const parents = [...new Set(r.parents.map((p) => i - 1 - (p % i)))];
        parents.forEach((from, j) => {
          edges.push({ from, to: i, port: INPUT_PORTS[(j + r.portShift) % INPUT_PORTS.length]! });
        });
      });
      return {
        nodes,
        edges,
        nodeOrder: permutation(nodes.length, nodeSeed),
        edgeOrder: permutation(edges.length, edgeSeed),
      };
    });
}

/** The graph JSON of a spec, with extra edges (e.g. back edges) appended. */
export function toGraph(spec: DagSpec, extraEdges: readonly SpecEdge[] = []): WorkflowGraphInput {
  const node = (i: number) => {
    const n = spec.nodes[i]!;
    const config: Record<string, unknown> = { v: n.v, cost: n.cost, fail: n.fail, delay: [...n.delay] };
    if (n.key !== undefined) config.key = n.key;
    return { id: n.id, type: genNode.type, config };
  };
  const edge = (e: SpecEdge, k: number) => ({
    id: `e${k}`,
    source: spec.nodes[e.from]!.id,
    sourceHandle: 'out',
    target: spec.nodes[e.to]!.id,
    targetHandle: e.port,
  });
  return {
    version: 1,
    nodes: spec.nodeOrder.map(node),
    edges: [
      ...spec.edgeOrder.map((k) => edge(spec.edges[k]!, k)),
      ...extraEdges.map((e, k) => edge(e, spec.edges.length + k)),
    ],
  };
}

/** Upstream node indices of each node. */
export function parentsOf(spec: DagSpec): number[][] {
  const parents: number[][] = spec.nodes.map(() => []);
  for (const e of spec.edges) parents[e.to]!.push(e.from);
  return parents;
}

/** Every ancestor of `index` (not itself). */
export function ancestorsOf(spec: DagSpec, index: number): Set<number> {
  const parents = parentsOf(spec);
  const seen = new Set<number>();
  const stack = [...parents[index]!];
  while (stack.length > 0) {
    const i = stack.pop()!;
    if (seen.has(i)) continue;
    seen.add(i);
    stack.push(...parents[i]!);
  }
  return seen;
}

/**
 * The outputs an uninterrupted run must produce, computed without the engine: failing nodes and
 * everything downstream of them have none.
 */
export function expectedOutputs(spec: DagSpec): Record<string, { out: number }> {
  const values: (number | undefined)[] = [];
  const inputs: Record<string, number>[] = spec.nodes.map(() => ({}));
  const blocked = spec.nodes.map(() => false);
  const byTarget: SpecEdge[][] = spec.nodes.map(() => []);
  for (const e of spec.edges) byTarget[e.to]!.push(e);
  const result: Record<string, { out: number }> = {};
  spec.nodes.forEach((n, i) => {
    for (const e of byTarget[i]!) {
      const x = values[e.from];
      if (x === undefined) blocked[i] = true;
      else inputs[i]![e.port] = x;
    }
    if (blocked[i] || n.fail) {
      values.push(undefined);
      return;
    }
    const out = computeOut(n.v, inputs[i]!);
    values.push(out);
    result[n.id] = { out };
  });
  return result;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

/** Lets pending microtasks and a few macrotask rounds run. */
export async function quiesce(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await macrotask();
}

/** A yield chosen by a number: 0 none, 1 a microtask, 2 a macrotask. */
export async function yieldBy(kind: number): Promise<void> {
  if (kind === 1) await Promise.resolve();
  else if (kind === 2) await macrotask();
}

/** Event types that end a node's part in a run. */
export const TERMINAL_NODE_EVENTS = [
  'node.completed',
  'node.failed',
  'node.skipped',
  'node.cancelled',
] as const;

/** The node id of an event, if it concerns a node. */
export function nodeIdOf(event: RunEvent): string | undefined {
  return 'nodeId' in event ? event.nodeId : undefined;
}

// ---------------------------------------------------------------------------------------------
// Billing ledger

export interface Hold {
  readonly id: string;
  readonly runId: string;
  readonly amount: number;
  captured: number;
  released: number;
  /** Releases applied (repeats with the same idempotency key are not). */
  releases: number;
}

export interface LedgerOptions {
  /** Refuse every reserve with `InsufficientCreditsError`. */
  readonly refuse?: boolean;
  /** Yields per call, cycled: 0 none, 1 a microtask, 2 a macrotask. */
  readonly delays?: readonly number[];
}

/** A billing host keeping a ledger, as the contract asks: every call is idempotent per its key. */
export interface Ledger {
  readonly hooks: BillingHooks;
  readonly holds: Map<string, Hold>;
  /** Deduplicated captures, in order. */
  readonly captures: { readonly runId: string; readonly nodeId: string; readonly amount: number }[];
  readonly reserveCalls: BillingHooks.ReserveArgs[];
  readonly captureCalls: BillingHooks.CaptureArgs[];
  readonly releaseCalls: BillingHooks.ReleaseArgs[];
  /** Contract violations seen by the host (captures on released holds, unknown holds, …). */
  readonly anomalies: string[];
}

/**
 * The idempotency key of a release: the engine passes one per run; without it (older engines) the
 * hold itself is the key.
 */
export function releaseKeyOf(args: BillingHooks.ReleaseArgs): string {
  return (args as { readonly idempotencyKey?: string }).idempotencyKey ?? `hold:${args.reservationId}`;
}

export function createLedger(options: LedgerOptions = {}): Ledger {
  const holds = new Map<string, Hold>();
  const byKey = new Map<string, string>();
  const captureKeys = new Set<string>();
  const releaseKeys = new Set<string>();
  const delays = options.delays ?? [];
  let call = 0;
  const pause = async () => {
    if (delays.length === 0) return;
    await yieldBy(delays[call++ % delays.length]!);
  };
  const ledger: Ledger = {
    holds,
    captures: [],
    reserveCalls: [],
    captureCalls: [],
    releaseCalls: [],
    anomalies: [],
    hooks: {
      async reserve(args) {
        ledger.reserveCalls.push(args);
        await pause();
        if (options.refuse === true) {
          throw new InsufficientCreditsError({ required: args.amount, available: 0 });
        }
        const known = byKey.get(args.idempotencyKey);
        if (known !== undefined) {
          const hold = holds.get(known)!;
          if (hold.amount !== args.amount)
            ledger.anomalies.push(`reserve repeated with amount ${args.amount}, held ${hold.amount}`);
          return { reservationId: known };
        }
        const id = `hold-${holds.size + 1}`;
        byKey.set(args.idempotencyKey, id);
        holds.set(id, {
          id,
          runId: args.runId,
          amount: args.amount,
          captured: 0,
          released: 0,
          releases: 0,
        });
        return { reservationId: id };
      },
      async capture(args) {
        ledger.captureCalls.push(args);
        await pause();
        if (captureKeys.has(args.idempotencyKey)) return;
        const hold = holds.get(args.reservationId);
        if (hold === undefined) {
          ledger.anomalies.push(`capture on unknown hold ${args.reservationId}`);
          return;
        }
        if (hold.releases > 0) ledger.anomalies.push(`capture for ${args.nodeId} after release`);
        captureKeys.add(args.idempotencyKey);
        hold.captured += args.amount;
        ledger.captures.push({ runId: args.runId, nodeId: args.nodeId, amount: args.amount });
      },
      async release(args) {
        ledger.releaseCalls.push(args);
        await pause();
        const key = releaseKeyOf(args);
        if (releaseKeys.has(key)) return;
        const hold = holds.get(args.reservationId);
        if (hold === undefined) {
          ledger.anomalies.push(`release of unknown hold ${args.reservationId}`);
          return;
        }
        releaseKeys.add(key);
        hold.releases++;
        hold.released += args.amount;
      },
    },
  };
  return ledger;
}

// ---------------------------------------------------------------------------------------------
// Kill switch

/** When the first engine instance dies. */
export type KillTrigger =
  /**
   * On the k-th store write (createRun, saveNode, saveRun), counting from 1. With `spareEnd`, not
   * when that write is the one that ends the run (the instance then lives on).
   */
  | { readonly kind: 'write'; readonly k: number; readonly applied: boolean; readonly spareEnd?: boolean }
  /** On the k-th node body entry. */
  | { readonly kind: 'start'; readonly k: number }
  /** On the write that ends the run (the `saveRun` that sets its final status). */
  | { readonly kind: 'end'; readonly applied: boolean };

/** What stops working once the instance is killed. */
export type KillHang = 'both' | 'bodies' | 'store';

export interface KillSwitch {
  killed: boolean;
  writes: number;
  /** Node ids whose `completed` checkpoint reached the store before the kill. */
  readonly completedBeforeKill: Set<string>;
}

/**
 * Wraps a store so that, once the switch is killed, every call hangs forever. The trigger write
 * hangs too; with `applied` it reaches the store first (the crash lost only the acknowledgement).
 */
export function killableStore(
  inner: CheckpointStore,
  sw: KillSwitch,
  trigger: KillTrigger,
  hang: KillHang,
): CheckpointStore {
  const hangs = hang !== 'bodies';
  const write = async <T>(op: () => Promise<T>, completed?: string, ends = false): Promise<T> => {
    if (sw.killed && hangs) return never();
    sw.writes++;
    const fires =
      trigger.kind === 'write'
        ? sw.writes === trigger.k && !(ends && trigger.spareEnd === true)
        : trigger.kind === 'end' && ends;
    if (fires && !sw.killed) {
      sw.killed = true;
      if (hangs) {
        if (trigger.kind !== 'start' && trigger.applied) {
          await op();
          if (completed !== undefined) sw.completedBeforeKill.add(completed);
        }
        return never();
      }
    }
    const result = await op();
    if (completed !== undefined && !sw.killed) sw.completedBeforeKill.add(completed);
    return result;
  };
  return {
    createRun: (args) => write(() => inner.createRun(args)),
    saveNode: (args) =>
      write(() => inner.saveNode(args), args.node.status === 'completed' ? args.node.nodeId : undefined),
    saveRun: (args) =>
      write(
        () => inner.saveRun(args),
        undefined,
        args.patch.status !== undefined && args.patch.status !== 'running',
      ),
    claimRun: (args) => (sw.killed && hangs ? never() : inner.claimRun(args)),
    loadRun: (args) => (sw.killed && hangs ? never() : inner.loadRun(args)),
  };
}

/** Wraps billing hooks so that every call made after the kill hangs forever. */
export function killableBilling(inner: BillingHooks, sw: KillSwitch, hang: KillHang): BillingHooks {
  const hangs = hang !== 'bodies';
  return {
    reserve: (args) => (sw.killed && hangs ? never() : inner.reserve(args)),
    capture: (args) => (sw.killed && hangs ? never() : inner.capture(args)),
    release: (args) => (sw.killed && hangs ? never() : inner.release(args)),
  };
}

/** A fraction in [0, 1): mostly uniform, sometimes an extreme. Map it onto a range with {@link scale}. */
export const fractionArb: fc.Arbitrary<number> = fc.oneof(
  { arbitrary: fc.noBias(fc.integer({ min: 0, max: 999_999 })).map((x) => x / 1_000_000), weight: 4 },
  { arbitrary: fc.constantFrom(0, 0.999_999), weight: 1 },
);

/** Kill trigger arbitrary: `fraction` picks the write or node start to die at. */
export const killArb = fc.record({
  kind: fc.constantFrom('write' as const, 'start' as const, 'end' as const),
  fraction: fractionArb,
  applied: fc.boolean(),
  hang: fc.constantFrom<KillHang>('both', 'bodies', 'store'),
});

export type KillArb = typeof killArb extends fc.Arbitrary<infer T> ? T : never;

/** Maps a fraction onto an integer in [lo, hi]. */
export function scale(fraction: number, lo: number, hi: number): number {
  return lo + Math.min(hi - lo, Math.floor(fraction * (hi - lo + 1)));
}

/**
 * The trigger a generated kill stands for: writes are counted up to `maxWrites`, starts up to
 * `nodes`. With `spareEnd`, a kill never lands on the write that ends the run.
 */
export function killTrigger(kill: KillArb, maxWrites: number, nodes: number, spareEnd = false): KillTrigger {
  switch (kill.kind) {
    case 'write':
      return { kind: 'write', k: scale(kill.fraction, 2, maxWrites), applied: kill.applied, spareEnd };
    case 'start':
      return { kind: 'start', k: scale(kill.fraction, 1, nodes) };
    default:
      return { kind: 'end', applied: kill.applied };
  }
}

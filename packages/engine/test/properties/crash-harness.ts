/**
 * Crash and resume: runs a graph on a first engine instance that gets "killed" at a chosen point
 * (its node bodies, store writes and billing calls hang forever from then on), then resumes the run
 * on a new engine instance with the same registry and the underlying store.
 */
import {
  createEngine,
  createMemoryCheckpointStore,
  type FailurePolicy,
  type RunEvent,
  type RunOutcome,
  type RunSnapshot,
} from '../../src/index.ts';
import {
  type DagSpec,
  type KillHang,
  type KillSwitch,
  type KillTrigger,
  killableBilling,
  killableStore,
  type Ledger,
  type NodeProbe,
  quiesce,
  registry,
  toGraph,
} from './random-dag.ts';

export interface CrashScenario {
  readonly spec: DagSpec;
  readonly trigger: KillTrigger;
  readonly hang: KillHang;
  readonly concurrency: number;
  readonly failurePolicy?: FailurePolicy;
  /** The billing host both instances talk to (the first one through a killable wrapper). */
  readonly ledger?: Ledger;
}

export interface CrashResult {
  readonly runId: string;
  readonly sw: KillSwitch;
  /** Body entries per node on the first instance. */
  readonly deadEntries: ReadonlyMap<string, number>;
  /** Nodes whose body was entered but had not returned when the first instance was killed. */
  readonly inFlightAtKill: ReadonlySet<string>;
  readonly deadEvents: readonly RunEvent[];
  /** The first instance's outcome, when it finished before the trigger fired. */
  readonly deadOutcome: RunOutcome | undefined;
  /** The stored run just before the resume. */
  readonly atResume: RunSnapshot;
  /** Body entries per node on the resumed instance. */
  readonly resumedEntries: ReadonlyMap<string, number>;
  readonly resumedEvents: readonly RunEvent[];
  readonly outcome: RunOutcome;
}

const bump = (map: Map<string, number>, id: string) => map.set(id, (map.get(id) ?? 0) + 1);

export async function crashAndResume(scenario: CrashScenario): Promise<CrashResult> {
  const { spec, trigger, hang, concurrency, ledger } = scenario;
  const failurePolicy = scenario.failurePolicy ?? 'finish-branches';
  const runId = 'run-under-test';
  const inner = createMemoryCheckpointStore();
  const sw: KillSwitch = { killed: false, writes: 0, completedBeforeKill: new Set() };

  const deadEntries = new Map<string, number>();
  const enteredBeforeKill = new Set<string>();
  const exitedBeforeKill = new Set<string>();
  let starts = 0;
  const deadProbe: NodeProbe = {
    enter: (id) => {
      bump(deadEntries, id);
      if (!sw.killed) enteredBeforeKill.add(id);
      if (trigger.kind === 'start' && ++starts === trigger.k) sw.killed = true;
    },
    exit: (id) => {
      if (!sw.killed) exitedBeforeKill.add(id);
    },
    frozen: () => sw.killed && hang !== 'store',
  };
  const deadEvents: RunEvent[] = [];
  const dead = createEngine({
    registry,
    store: killableStore(inner, sw, trigger, hang),
    concurrency,
    failurePolicy,
    ...(ledger === undefined ? {} : { billing: killableBilling(ledger.hooks, sw, hang) }),
    services: { probe: deadProbe },
  });
  let deadOutcome: RunOutcome | undefined;
  void dead.start(toGraph(spec), { runId, onEvent: (e) => deadEvents.push(e) }).result.then((o) => {
    deadOutcome = o;
  });
  for (let i = 0; !sw.killed && deadOutcome === undefined; i++) {
    if (i > 100_000) throw new Error('the first instance neither finished nor reached the kill point');
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  // Let whatever the dead instance still does without its store and bodies run out.
  await quiesce(20);
  const inFlightAtKill = new Set([...enteredBeforeKill].filter((id) => !exitedBeforeKill.has(id)));

  const atResume = await inner.loadRun({ runId });
  if (atResume === undefined) throw new Error('the run was never created');
  const resumedEntries = new Map<string, number>();
  const resumedEvents: RunEvent[] = [];
  const resumed = createEngine({
    registry,
    store: inner,
    concurrency,
    failurePolicy,
    ...(ledger === undefined ? {} : { billing: ledger.hooks }),
    services: { probe: { enter: (id) => bump(resumedEntries, id) } },
  });
  const outcome = await resumed.resume(runId, { onEvent: (e) => resumedEvents.push(e) }).result;
  return {
    runId,
    sw,
    deadEntries,
    inFlightAtKill,
    deadEvents,
    deadOutcome,
    atResume,
    resumedEntries,
    resumedEvents,
    outcome,
  };
}

/**
 * Embedding @vidgenie/engine, end to end. Run it with `pnpm start` from the repository root.
 *
 * The program walks through what a host does:
 *   1. register node types and validate a graph (as a canvas would, before saving);
 *   2. estimate its cost in credits;
 *   3. run it with a credit ledger and a checkpoint store, printing every event;
 *   4. crash in the middle of a run, then resume it on a fresh engine: completed nodes are not run
 *      again, the half-done node re-attaches to its job, and every node is charged exactly once;
 *   5. watch fencing stop the "crashed" process when it turns out to be only frozen;
 *   6. be refused by the ledger when the account runs short.
 *
 * `main()` returns a summary so `main.test.ts` can check the same story without reading stdout.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createEngine,
  createMemoryCheckpointStore,
  createNodeRegistry,
  type RunEvent,
  type RunHandle,
  type RunOutcome,
  type SecretsResolver,
} from '@vidgenie/engine';
import { formatEvent } from './format-event.ts';
import { brokenGraph, titleCardGraph } from './graph.ts';
import { CreditLedger } from './ledger.ts';
import { headline } from './nodes/headline.ts';
import { titleCard } from './nodes/title-card.ts';
import { freezeOnFirstWait, type RenderFarm, SimulatedRenderFarm } from './render-farm.ts';

/** What happened to one run, as the demo observed it. */
export interface RunReport {
  readonly runId: string;
  readonly status: RunOutcome['status'];
  readonly errorCode?: string;
  /** Node ids that emitted `node.started`, in order: the nodes this engine actually ran. */
  readonly nodesStarted: readonly string[];
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly captured: number;
}

/** Everything `main()` learned, for tests and curious readers. */
export interface DemoSummary {
  readonly estimate: number;
  readonly invalidIssueCodes: readonly string[];
  readonly first: RunReport;
  readonly crash: {
    readonly runId: string;
    /** Nodes whose `node.completed` the host saw before the process died. */
    readonly completedBeforeCrash: readonly string[];
    /** The last event sequence number the host stored before the crash. */
    readonly lastSeq: number;
  };
  readonly resumed: RunReport;
  /** The frozen process's own outcome once it wakes up. */
  readonly zombie: { readonly status: RunOutcome['status']; readonly errorCode?: string };
  readonly refused: RunReport;
  /** Jobs submitted to the render farm (a resumed node re-attaches instead of submitting). */
  readonly farmSubmissions: number;
  readonly ledger: {
    readonly startingBalance: number;
    readonly balance: number;
    readonly held: number;
    readonly available: number;
    /** Capture idempotency keys (`runId:nodeId`) and how often the engine asked for each. */
    readonly captureRequests: Readonly<Record<string, number>>;
  };
}

export interface MainOptions {
  /** Where to print. Default `console.log`; tests pass a function that keeps the lines. */
  readonly log?: (line: string) => void;
}

export async function main(options: MainOptions = {}): Promise<DemoSummary> {
  const log = options.log ?? ((line: string) => console.log(line));

  // --- The host's side: services, secrets, money and storage. -------------------------------------
  // The engine has no IO of its own: everything that touches the outside world is handed to it.
  const registry = createNodeRegistry([headline, titleCard]);
  const farm = new SimulatedRenderFarm();
  const ledger = new CreditLedger(12);
  // One store shared by every engine below. It stands for a database: it outlives any one process.
  const store = createMemoryCheckpointStore();
  const secrets: SecretsResolver = ({ name }) => (name === 'COPYWRITER_API_KEY' ? 'sk-demo-1234' : undefined);

  /** Engine options every "process" of the demo shares; only the services differ in the crash. */
  const engineFor = (renderFarm: RenderFarm) =>
    createEngine({
      registry,
      store,
      billing: ledger,
      secrets,
      // `services` is type-checked against what the registry's nodes declared with requireServices.
      services: { renderFarm },
      // At most two render jobs at once across all runs of this engine (the farm's own limit).
      keyConcurrency: (key) => (key === 'render-farm' ? 2 : undefined),
      // Retries in a demo should not make anyone wait.
      retry: { initialDelayMs: 20, jitter: 0 },
    });
  const engine = engineFor(farm);
  let printedEntries = 0;

  // --- 1. Validate. ---------------------------------------------------------------------------------
  log('1. Validating graphs');
  const bad = engine.validate(brokenGraph);
  const invalidIssueCodes = bad.ok ? [] : bad.issues.map((issue) => issue.code);
  if (!bad.ok) {
    log(`   the broken graph has ${bad.issues.length} issues (a canvas would highlight each):`);
    for (const issue of bad.issues) log(`   - ${issue.code.padEnd(22)} ${issue.message}`);
  }
  const good = engine.validate(titleCardGraph);
  log(`   the title-card graph is ${good.ok ? 'valid' : 'INVALID'}`);

  // --- 2. Estimate. ---------------------------------------------------------------------------------
  const estimate = engine.estimateCost(titleCardGraph);
  log('');
  log(`2. Cost estimate: ${estimate.total} credits`);
  for (const node of estimate.nodes)
    log(`   ${node.nodeId.padEnd(9)} ${node.nodeType.padEnd(14)} ${node.cost}`);

  // --- 3. Run. --------------------------------------------------------------------------------------
  log('');
  log(`3. Running demo-run-1 (balance ${ledger.balance})`);
  const first = await report(engine.start(titleCardGraph, { runId: 'demo-run-1', onEvent: print }));
  log(`   outcome: ${first.outcome.status}`);
  const card = first.outcome.outputs.card as { art: string } | undefined;
  if (card !== undefined) for (const line of card.art.split('\n')) log(`   ${line}`);
  printLedger();

  // --- 4. Crash and resume. -------------------------------------------------------------------------
  log('');
  log('4. Crash and resume: demo-run-2 starts on a process that dies while the card is rendering');
  const frozen = freezeOnFirstWait(farm);
  const doomed = engineFor(frozen.farm);
  // The host persists events as they arrive (here: an array) so clients can replay them later.
  const eventLog: RunEvent[] = [];
  let processAlive = true;
  const crashing = doomed.start(titleCardGraph, {
    runId: 'demo-run-2',
    onEvent: (event) => {
      // A dead process's listeners are gone with it: stop printing once it "dies".
      if (!processAlive) return;
      eventLog.push(event);
      print(event);
    },
  });
  await frozen.hung;
  processAlive = false;
  const lastSeq = eventLog.at(-1)?.seq ?? 0;
  const completedBeforeCrash = eventLog.flatMap((e) => (e.type === 'node.completed' ? [e.nodeId] : []));
  log(`   ** the process dies here: ${completedBeforeCrash.join(' and ')} completed, card is half done **`);
  log(`   ledger now: ${ledger.balance} on the account, ${ledger.held} still held for demo-run-2`);
  log('   a new process starts an engine on the same store and resumes the run:');

  // `doomed` and `crashing` are abandoned: nothing below uses them until the fencing step.
  const survivor = engineFor(farm);
  // `lastSeq` tells the engine which events the host already has; new ones continue after it.
  const resumed = await report(survivor.resume('demo-run-2', { lastSeq, onEvent: print }));
  log(
    `   outcome: ${resumed.outcome.status}; nodes run by the new process: ${resumed.report.nodesStarted.join(', ') || 'none'}`,
  );
  log(`   render jobs submitted so far: ${farm.submissions} (the resumed card re-attached to its job)`);
  printLedger();

  // --- 5. Fencing. ----------------------------------------------------------------------------------
  log('');
  log('5. Fencing: the old process was only frozen, and now wakes up');
  // Resuming claimed the run, which raised its fencing token in the store. The old process still
  // holds the previous token, so its first write is refused and it stops without touching anything.
  frozen.wake();
  const zombieOutcome = await crashing.result;
  const zombieCode = zombieOutcome.status === 'failed' ? zombieOutcome.error.code : undefined;
  log(`   its run ended ${zombieOutcome.status}${zombieCode === undefined ? '' : ` with ${zombieCode}`}`);
  log(`   balance unchanged at ${ledger.balance}: a stale writer cannot checkpoint or charge`);

  // --- 6. Insufficient credits. ---------------------------------------------------------------------
  log('');
  log(`6. demo-run-3 needs ${estimate.total} credits, the account has ${ledger.available}`);
  const refused = await report(engine.start(titleCardGraph, { runId: 'demo-run-3', onEvent: print }));
  log(`   outcome: ${refused.outcome.status}; no node ran and nothing was charged`);
  printLedger();

  return {
    estimate: estimate.total,
    invalidIssueCodes,
    first: first.report,
    crash: { runId: 'demo-run-2', completedBeforeCrash, lastSeq },
    resumed: resumed.report,
    zombie: { status: zombieOutcome.status, ...(zombieCode === undefined ? {} : { errorCode: zombieCode }) },
    refused: refused.report,
    farmSubmissions: farm.submissions,
    ledger: {
      startingBalance: ledger.startingBalance,
      balance: ledger.balance,
      held: ledger.held,
      available: ledger.available,
      captureRequests: Object.fromEntries(ledger.captureRequests),
    },
  };

  function print(event: RunEvent): void {
    log(formatEvent(event));
  }

  /** Prints the balance and the journal entries written since the last call. */
  function printLedger(): void {
    log(`   ledger: balance ${ledger.balance}, held ${ledger.held}, available ${ledger.available}`);
    for (const entry of ledger.journal.slice(printedEntries)) {
      log(
        `     ${entry.kind.padEnd(8)} ${entry.runId.padEnd(11)} ${String(entry.amount).padStart(2)}  -> ${String(entry.balance).padStart(2)}  ${entry.note}`,
      );
    }
    printedEntries = ledger.journal.length;
  }
}

/** Waits for a run while watching its events, and sums up what it did. */
async function report(handle: RunHandle): Promise<{ outcome: RunOutcome; report: RunReport }> {
  const seqs: number[] = [];
  const nodesStarted: string[] = [];
  // Listeners added right after start()/resume() returns see every event; `onEvent` does too.
  handle.on('event', (event) => {
    seqs.push(event.seq);
    if (event.type === 'node.started') nodesStarted.push(event.nodeId);
  });
  const outcome = await handle.result;
  const summary: RunReport = {
    runId: handle.runId,
    status: outcome.status,
    ...(outcome.status === 'failed' ? { errorCode: outcome.error.code } : {}),
    nodesStarted,
    firstSeq: seqs[0] ?? 0,
    lastSeq: seqs.at(-1) ?? 0,
    captured: outcome.cost.captured,
  };
  return { outcome, report: summary };
}

// Run when executed directly (`tsx src/main.ts`), not when imported by the test.
const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(resolve(entry)).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}

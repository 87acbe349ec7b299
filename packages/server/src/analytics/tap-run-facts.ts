import type { RunEvent } from '@vidgenie/engine';
import type { ProviderKind, ProviderRegistry } from '@vidgenie/nodes';
import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import { gather } from '../db/gather.ts';
import type { DB } from '../db/schema.ts';
import type { RunEventBus, StoredRunEvent } from '../runs/run-event-bus.ts';
import { isTerminalRunEvent } from '../runs/terminal-run-events.ts';

/** A node of a run's stored graph, as the facts name it. */
export interface RunFactNode {
  readonly id: string;
  readonly type: string;
  /** The provider the node calls (its `provider` config, else the first of its kind); undefined for nodes that call none. */
  readonly provider: string | undefined;
  readonly config: Readonly<Record<string, unknown>>;
}

/** What the run's row says, read once per run. */
export interface RunFactRun {
  readonly runId: string;
  readonly userId: string;
  readonly estimatedCost: number;
  readonly nodeCount: number;
  /** Length of the prompt node's text (never the text itself). */
  readonly promptLength: number | undefined;
  /** True for a rerun (it reuses an earlier run's outputs). */
  readonly rerun: boolean;
  /**
   * True when this process executes the run (it held the run's lease, or none did, when its first
   * event was heard); false for a run of another machine whose events the cross-machine bridge
   * relays here. Counters count local runs only, so machines do not count a run twice.
   */
  readonly local: boolean;
}

/** One stored run event with what metrics and analytics need around it. */
export interface RunFact {
  readonly run: RunFactRun;
  /** The engine's event as stored (its `seq`, `at` and payload). */
  readonly event: RunEvent;
  /** The node of a node event (and of a `run.failed` that names one). */
  readonly node: RunFactNode | undefined;
  /**
   * `node.completed`: the attempt's duration; `node.failed`: since its last attempt started;
   * `run.completed`: the engine's duration; `run.failed` / `run.cancelled`: since the run started.
   * Undefined when not known (e.g. the start was heard by another process).
   */
  readonly durationMs: number | undefined;
}

/** What the tap reads of a run's row, when the process already has it (see {@link TapRunFactsOptions.localRun}). */
export interface RunFactsRow {
  readonly userId: string;
  /** The stored graph (parsed, or its JSON text). */
  readonly graph: unknown;
  readonly estimatedCost: number;
  readonly parentRunId: string | null;
  readonly createdAt: Date;
  readonly startedAt: Date | null;
  /** `runs.lease_owner`: the worker executing the run, if any. */
  readonly leaseOwner: string | null;
}

/** Hears each published batch of one run's events, in order. */
export type RunFactsListener = (facts: readonly RunFact[]) => void | Promise<void>;

/** A running tap; see {@link tapRunFacts}. */
export interface RunFactsTap {
  /** Resolves once every batch heard so far went through the listeners. */
  idle(): Promise<void>;
  /** Stops hearing new events and waits for the batches already heard. */
  stop(): Promise<void>;
}

/** Options of {@link tapRunFacts}. */
export interface TapRunFactsOptions {
  readonly bus: RunEventBus;
  readonly db: Kysely<DB>;
  /** Resolves a node's default provider when its config names none. */
  readonly providers: ProviderRegistry;
  readonly log: Logger;
  readonly listeners: readonly RunFactsListener[];
  /** Runs remembered at once (older ones are forgotten first; default 10,000). */
  readonly maxRuns?: number;
  /** This process's worker id (`runs.lease_owner` of the runs it executes); every run is local without it. */
  readonly workerId?: string | undefined;
  /**
   * The row of a run this process executes, when it has it at hand (what its lease read): the tap
   * then reads only the rows of other machines' runs. Undefined: read.
   */
  readonly localRun?: (runId: string) => RunFactsRow | undefined;
}

const PROVIDER_KIND: Readonly<Record<string, ProviderKind>> = {
  enhance: 'text',
  image: 'image',
  video: 'video',
};

interface RunState {
  readonly run: Promise<LoadedRun | undefined>;
  chain: Promise<void>;
  /** The highest `seq` handled: a batch heard twice (relays may over-read) counts once. */
  lastSeq: number;
  /** When each node's latest attempt started (ms since the epoch). */
  readonly nodeStarts: Map<string, number>;
}

interface LoadedRun {
  readonly run: RunFactRun;
  readonly nodes: ReadonlyMap<string, RunFactNode>;
  readonly startedAt: number | undefined;
}

/**
 * Taps the run event bus for metrics and analytics: each run's row (owner, graph, estimate) is
 * read once, at its first event heard (taken from `localRun` for a run this process executes),
 * and every batch is handed to the listeners as
 * {@link RunFact}s, one run's batches in order. A listener that throws is logged; the others and
 * the run go on. The tap never blocks the bus: the work is queued per run, off the publisher's
 * path, and queries `db` only when no transaction of its own is open (safe on PGlite).
 * @internal
 */
export function tapRunFacts(options: TapRunFactsOptions): RunFactsTap {
  const { db, providers, log } = options;
  const maxRuns = options.maxRuns ?? 10_000;
  const runs = new Map<string, RunState>();
  /** The last `seq` of runs that ended here, so a late relay of their events is not counted again. */
  const ended = new Map<string, number>();
  const pending = new Set<Promise<void>>();

  const providerOf = (type: string, config: Readonly<Record<string, unknown>>): string | undefined => {
    if (typeof config.provider === 'string') return config.provider;
    const kind = PROVIDER_KIND[type];
    return kind === undefined ? undefined : providers.ofKind(kind)[0]?.id;
  };

  // Runs' rows read together: a burst of runs starting at once makes a few statements, not one each.
  const readRun = gather({
    send: async (runIds: readonly string[]) => {
      const rows = await db
        .selectFrom('runs')
        .select([
          'id',
          'user_id',
          'graph',
          'estimated_cost',
          'parent_run_id',
          'started_at',
          'created_at',
          'lease_owner',
        ])
        .where(sql<boolean>`id = any(${[...new Set(runIds)]}::text[])`)
        .execute();
      const byId = new Map(
        rows.map((row): [string, RunFactsRow] => [
          row.id,
          {
            userId: row.user_id,
            graph: row.graph,
            estimatedCost: row.estimated_cost,
            parentRunId: row.parent_run_id,
            createdAt: new Date(row.created_at),
            startedAt: row.started_at === null ? null : new Date(row.started_at),
            leaseOwner: row.lease_owner,
          },
        ]),
      );
      return runIds.map((runId) => byId.get(runId));
    },
  });

  const load = async (runId: string): Promise<LoadedRun | undefined> => {
    const row = options.localRun?.(runId) ?? (await readRun(runId));
    if (row === undefined) return undefined;
    const graph = (typeof row.graph === 'string' ? JSON.parse(row.graph) : row.graph) as {
      nodes?: readonly { id: string; type: string; config?: unknown }[];
    };
    const nodes = new Map<string, RunFactNode>();
    let promptLength: number | undefined;
    for (const node of graph.nodes ?? []) {
      const config = (typeof node.config === 'object' && node.config !== null ? node.config : {}) as Readonly<
        Record<string, unknown>
      >;
      nodes.set(node.id, { id: node.id, type: node.type, provider: providerOf(node.type, config), config });
      if (node.type === 'prompt' && typeof config.text === 'string') promptLength = config.text.length;
    }
    return {
      run: {
        runId,
        userId: row.userId,
        estimatedCost: row.estimatedCost,
        nodeCount: nodes.size,
        promptLength,
        rerun: row.parentRunId !== null,
        local:
          options.workerId === undefined || row.leaseOwner === null || row.leaseOwner === options.workerId,
      },
      nodes,
      startedAt: (row.startedAt ?? row.createdAt).getTime(),
    };
  };

  const toFact = (loaded: LoadedRun, state: RunState, stored: StoredRunEvent): RunFact => {
    const event = stored.payload as unknown as RunEvent;
    const nodeId = 'nodeId' in event && typeof event.nodeId === 'string' ? event.nodeId : undefined;
    const node = nodeId === undefined ? undefined : loaded.nodes.get(nodeId);
    let durationMs: number | undefined;
    switch (event.type) {
      case 'node.started':
        state.nodeStarts.set(event.nodeId, event.at);
        break;
      case 'node.completed':
      case 'run.completed':
        durationMs = event.durationMs;
        break;
      case 'node.failed': {
        const started = state.nodeStarts.get(event.nodeId);
        durationMs = started === undefined ? undefined : Math.max(0, event.at - started);
        break;
      }
      case 'run.failed':
      case 'run.cancelled':
        durationMs = loaded.startedAt === undefined ? undefined : Math.max(0, event.at - loaded.startedAt);
        break;
      default:
        break;
    }
    return { run: loaded.run, event, node, durationMs };
  };

  const handle = async (runId: string, state: RunState, events: readonly StoredRunEvent[]) => {
    let loaded: LoadedRun | undefined;
    try {
      loaded = await state.run;
    } catch (error) {
      log.warn({ err: error, runId }, 'metrics and analytics could not read the run');
    }
    const fresh = events.filter((event) => event.seq > state.lastSeq);
    state.lastSeq = Math.max(state.lastSeq, ...events.map((event) => event.seq));
    if (events.some((event) => isTerminalRunEvent(event.type))) {
      runs.delete(runId);
      ended.set(runId, state.lastSeq);
      if (ended.size > maxRuns) {
        const oldest = ended.keys().next().value;
        if (oldest !== undefined) ended.delete(oldest);
      }
    }
    if (loaded === undefined || fresh.length === 0) return;
    const facts = fresh.map((event) => toFact(loaded, state, event));
    for (const listener of options.listeners) {
      try {
        await listener(facts);
      } catch (error) {
        log.warn({ err: error, runId }, 'a run facts listener failed');
      }
    }
  };

  const untap = options.bus.tap((runId, events) => {
    let state = runs.get(runId);
    if (state === undefined) {
      const endedAt = ended.get(runId) ?? 0;
      if (events.every((event) => event.seq <= endedAt)) return;
      const run = load(runId);
      run.catch(() => {}); // handled where it is awaited
      state = { run, chain: Promise.resolve(), lastSeq: endedAt, nodeStarts: new Map() };
      runs.set(runId, state);
      if (runs.size > maxRuns) {
        const oldest = runs.keys().next().value;
        if (oldest !== undefined) runs.delete(oldest);
      }
    }
    const current = state;
    const job = current.chain.then(() => handle(runId, current, events));
    current.chain = job;
    pending.add(job);
    void job.finally(() => pending.delete(job));
  });

  const idle = async () => {
    while (pending.size > 0) await Promise.allSettled([...pending]);
  };
  return Object.freeze({
    idle,
    async stop() {
      untap();
      await idle();
    },
  });
}

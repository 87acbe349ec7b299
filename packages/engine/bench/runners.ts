/**
 * The three ways the benchmark runs one DAG of no-op nodes: through the engine, through p-graph and
 * through a bare topological Promise scheduler (the floor). Each runner does the whole job from the
 * DAG description (graph compile / construction included) and returns how many nodes it executed.
 */

import {
  createEngine,
  createMemoryCheckpointStore,
  createNodeRegistry,
  defineNode,
  type Engine,
  type RunOutcome,
  type WorkflowGraphInput,
} from '@vidgenie/engine';
import { type DependencyList, PGraph, type PGraphNode } from 'p-graph';
import { z } from 'zod';
import { OUTPUT_PORT, type RandomDag } from './random-dag.ts';

/** Counts no-op executions of the current run (reset by each runner). */
let executed = 0;

/** A no-op node: a few optional number inputs, one number output. */
export const noopNode = defineNode({
  type: 'bench.noop',
  version: 1,
  input: z.object({
    a: z.number().optional(),
    b: z.number().optional(),
    c: z.number().optional(),
    d: z.number().optional(),
  }),
  output: z.object({ [OUTPUT_PORT]: z.number() }),
  config: z.object({}),
  run: () => {
    executed++;
    return { [OUTPUT_PORT]: 1 };
  },
});

const registry = createNodeRegistry([noopNode]);

const nodeId = (index: number): string => `n${index}`;

/** The DAG as engine graph JSON. */
export function toWorkflowGraph(dag: RandomDag): WorkflowGraphInput {
  return {
    version: 1,
    nodes: Array.from({ length: dag.nodeCount }, (_, i) => ({
      id: nodeId(i),
      type: noopNode.type,
      config: {},
    })),
    edges: dag.edges.map((edge, k) => ({
      id: `e${k}`,
      source: nodeId(edge.source),
      sourceHandle: OUTPUT_PORT,
      target: nodeId(edge.target),
      targetHandle: edge.port,
    })),
  };
}

/** A fresh engine with a fresh in-memory checkpoint store (default options: values are cloned). */
export function createBenchEngine(concurrency: number): Engine<typeof noopNode> {
  return createEngine({ registry, store: createMemoryCheckpointStore(), concurrency });
}

/** What one engine run did. */
export interface EngineRunResult {
  readonly executed: number;
  readonly outcome: RunOutcome;
  /** Every event seen on the `event` channel. */
  readonly events: number;
  readonly nodeStarted: number;
  readonly nodeCompleted: number;
}

/** Runs the graph through the engine with a listener counting every event. */
export async function runEngine(engine: Engine, graph: WorkflowGraphInput): Promise<EngineRunResult> {
  executed = 0;
  let events = 0;
  let nodeStarted = 0;
  let nodeCompleted = 0;
  const handle = engine.start(graph);
  handle.on('event', (event) => {
    events++;
    if (event.type === 'node.started') nodeStarted++;
    else if (event.type === 'node.completed') nodeCompleted++;
  });
  const outcome = await handle.result;
  return { executed, outcome, events, nodeStarted, nodeCompleted };
}

/** The DAG in p-graph's terms: node ids and dependency pairs (shared by every p-graph run). */
export interface PGraphInput {
  readonly ids: readonly string[];
  readonly dependencies: DependencyList;
}

export function toPGraphInput(dag: RandomDag): PGraphInput {
  return {
    ids: Array.from({ length: dag.nodeCount }, (_, i) => nodeId(i)),
    dependencies: dag.edges.map((edge): [string, string] => [nodeId(edge.source), nodeId(edge.target)]),
  };
}

/** Builds a p-graph with a no-op `run` per node and runs it. */
export async function runPGraph(input: PGraphInput, concurrency: number | undefined): Promise<number> {
  executed = 0;
  const run = (): void => {
    executed++;
  };
  const nodeMap = new Map<string, PGraphNode>();
  for (const id of input.ids) nodeMap.set(id, { run });
  await new PGraph(nodeMap, input.dependencies).run(concurrency === undefined ? {} : { concurrency });
  return executed;
}

/**
 * The floor: indegree counters, a FIFO of ready nodes, each launched as an async no-op; on
 * completion, its dependents are decremented and those reaching zero become ready.
 */
export function runBare(dag: RandomDag, concurrency: number | undefined): Promise<number> {
  executed = 0;
  const limit = concurrency ?? Number.POSITIVE_INFINITY;
  const n = dag.nodeCount;
  const { dependentsStart, dependents } = dag;
  const remaining = dag.indegree.slice();
  const ready = new Int32Array(n);
  let head = 0;
  let tail = 0;
  let active = 0;
  let finished = 0;
  for (let i = 0; i < n; i++) if (remaining[i] === 0) ready[tail++] = i;
  const task = async (_index: number): Promise<void> => {
    executed++;
  };
  return new Promise<number>((resolve, reject) => {
    if (n === 0) {
      resolve(0);
      return;
    }
    const pump = (): void => {
      while (active < limit && head < tail) {
        const index = ready[head++]!;
        active++;
        task(index).then(() => onDone(index), reject);
      }
    };
    const onDone = (index: number): void => {
      active--;
      finished++;
      for (let k = dependentsStart[index]!; k < dependentsStart[index + 1]!; k++) {
        const d = dependents[k]!;
        if (--remaining[d]! === 0) ready[tail++] = d;
      }
      if (finished === n) resolve(executed);
      else pump();
    };
    pump();
  });
}

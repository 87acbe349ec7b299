import type { EngineErrorJSON } from '@vidgenie/engine';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DB } from '../db/schema.ts';
import { createAnalyticsBatcher } from './analytics-batcher.ts';
import type { AnalyticsEvent } from './record-analytics-event.ts';
import type { RunFact, RunFactsListener } from './tap-run-facts.ts';

/** The provider failure kind of an engine error (`invalid_key`, `rate_limited`…), when it has one. */
export function failureOf(error: EngineErrorJSON): string | undefined {
  const failure = error.details?.failure;
  return typeof failure === 'string' ? failure : undefined;
}

/** The provider an error names, else the node's. */
function providerOf(fact: RunFact, error?: EngineErrorJSON): string | undefined {
  const named = error?.details?.providerId;
  return typeof named === 'string' ? named : fact.node?.provider;
}

const record = (value: unknown): Readonly<Record<string, unknown>> =>
  (typeof value === 'object' && value !== null ? value : {}) as Readonly<Record<string, unknown>>;

/** Drops undefined values (jsonb would keep neither, but the rows read better without them). */
function defined(properties: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  return Object.fromEntries(Object.entries(properties).filter(([, value]) => value !== undefined));
}

/**
 * The analytics events of one fact (none for progress, costs and the like). `workflowId` is the
 * run id; durations are in milliseconds; no prompt text, only lengths.
 * @internal
 */
export function analyticsEventsOf(fact: RunFact): AnalyticsEvent[] {
  const { run, event, node } = fact;
  const base = { userId: run.userId, at: new Date(event.at), dedupeKey: `${run.runId}:${event.seq}` };
  const nodeProps = (error?: EngineErrorJSON) => ({
    workflowId: run.runId,
    nodeId: node?.id,
    nodeType: node?.type,
    provider: providerOf(fact, error),
  });
  switch (event.type) {
    case 'run.started':
      if (event.resumed) return [];
      return [
        {
          ...base,
          name: 'workflow.started',
          properties: defined({
            workflowId: run.runId,
            estimatedCost: event.estimatedCost,
            nodeCount: event.nodeCount,
            promptLength: run.promptLength,
            rerun: run.rerun,
          }),
        },
      ];
    case 'run.completed':
      return [
        {
          ...base,
          name: 'workflow.completed',
          properties: {
            workflowId: run.runId,
            actualCost: event.captured,
            durationMs: event.durationMs,
            saved: event.saved,
          },
        },
      ];
    case 'run.failed':
      return [
        {
          ...base,
          name: 'workflow.failed',
          properties: defined({
            workflowId: run.runId,
            failedNode: event.nodeId,
            failedNodeType: event.nodeId === undefined ? undefined : node?.type,
            errorType: event.error.code,
            failure: failureOf(event.error),
            durationMs: fact.durationMs,
          }),
        },
      ];
    case 'run.cancelled':
      return [
        {
          ...base,
          name: 'workflow.cancelled',
          properties: defined({ workflowId: run.runId, durationMs: fact.durationMs }),
        },
      ];
    case 'node.completed':
      return [
        {
          ...base,
          name: 'node.completed',
          properties: defined({
            ...nodeProps(),
            durationMs: event.durationMs,
            cost: event.cost,
            attempt: event.attempt,
          }),
        },
        ...generationEvents(fact, event.output, event.durationMs),
      ];
    case 'node.failed':
      return [
        {
          ...base,
          name: 'node.failed',
          properties: defined({
            ...nodeProps(event.error),
            durationMs: fact.durationMs,
            errorCode: event.error.code,
            failure: failureOf(event.error),
            attempt: event.attempt,
          }),
        },
      ];
    case 'node.retrying':
      return [
        {
          ...base,
          name: 'node.retried',
          properties: defined({
            ...nodeProps(event.error),
            errorCode: event.error.code,
            failure: failureOf(event.error),
            attempt: event.attempt,
            delayMs: event.delayMs,
          }),
        },
      ];
    default:
      return [];
  }
}

/** The PRD's `generation.*` events of a completed enhance, image or video node. */
function generationEvents(fact: RunFact, output: unknown, durationMs: number): AnalyticsEvent[] {
  const { run, node, event } = fact;
  if (node === undefined) return [];
  const base = {
    userId: run.userId,
    at: new Date(event.at),
    dedupeKey: `${run.runId}:${event.seq}:generation`,
  };
  const out = record(output);
  const common = { workflowId: run.runId, nodeId: node.id, provider: node.provider, durationMs };
  if (node.type === 'enhance') {
    return [
      {
        ...base,
        name: 'generation.prompt_enhanced',
        properties: defined({
          ...common,
          model: typeof out.model === 'string' ? out.model : undefined,
          tokensUsed: typeof out.tokensUsed === 'number' ? out.tokensUsed : undefined,
          enhancedLength: typeof out.prompt === 'string' ? out.prompt.length : undefined,
        }),
      },
    ];
  }
  if (node.type === 'image') {
    const image = record(out.image);
    return [
      {
        ...base,
        name: 'generation.image_created',
        properties: defined({
          ...common,
          size: typeof node.config.size === 'string' ? node.config.size : undefined,
          width: image.width,
          height: image.height,
        }),
      },
    ];
  }
  if (node.type === 'video') {
    const video = record(out.video);
    return [
      {
        ...base,
        name: 'generation.video_created',
        properties: defined({
          ...common,
          videoSeconds: video.durationSeconds,
          resolution:
            typeof video.width === 'number' && typeof video.height === 'number'
              ? `${video.width}x${video.height}`
              : undefined,
        }),
      },
    ];
  }
  return [];
}

/**
 * How long a run's analytics events wait for other runs' before their insert: a dashboard figure a
 * quarter of a second late, for one statement where a burst of starting runs would take dozens.
 */
const ANALYTICS_DELAY_MS = 250;

/** The tap listener of {@link runAnalyticsListener}, and how to wait for what it was handed. */
export type RunAnalyticsListener = RunFactsListener & {
  /** Resolves once every event handed in so far is stored (or failed, and was logged). */
  readonly flush: () => Promise<void>;
};

/**
 * The tap listener that records each batch's analytics events (see {@link analyticsEventsOf}):
 * it hands them to a batcher and returns at once, so the tap's other listeners (metrics) never
 * wait for the database; the batcher stores the events of all runs heard within
 * {@link ANALYTICS_DELAY_MS} in one insert, in the order heard. Only the machine executing a run
 * records it, as for metrics: another machine hears the same events relayed for its followers,
 * and its inserts (each event's `dedupeKey` already stored) were statements that changed nothing.
 * @internal
 */
export function runAnalyticsListener(options: {
  readonly db: Kysely<DB>;
  readonly log: Logger;
  /** How long events gather before their insert, in ms (default {@link ANALYTICS_DELAY_MS}). */
  readonly delayMs?: number;
}): RunAnalyticsListener {
  const record = createAnalyticsBatcher(options.db, { delayMs: options.delayMs ?? ANALYTICS_DELAY_MS });
  const pending = new Set<Promise<void>>();
  const listener: RunFactsListener = (facts) => {
    const events = facts.filter((fact) => fact.run.local).flatMap(analyticsEventsOf);
    if (events.length === 0) return;
    const write = record(events).catch((error: unknown) => {
      options.log.warn({ err: error, runId: facts[0]?.run.runId }, 'could not record analytics events');
    });
    pending.add(write);
    void write.finally(() => pending.delete(write));
  };
  return Object.assign(listener, {
    async flush() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  });
}

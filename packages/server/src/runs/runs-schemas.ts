import { z } from '@hono/zod-openapi';
import { MAX_PROMPT_LENGTH } from '@vidgenie/nodes';

/** `{runId}` path parameter. @internal */
export const RunIdParam = z.object({
  runId: z
    .string()
    .min(1)
    .max(255)
    .openapi({ param: { name: 'runId', in: 'path' }, example: 'run_3q2-7wXkQeM1c9b0sFh2Aw' }),
});

/** `{runId}`, `{nodeId}` and `{port}` path parameters of a node's media route. @internal */
export const NodeMediaParams = RunIdParam.extend({
  nodeId: z
    .string()
    .min(1)
    .max(255)
    .openapi({ param: { name: 'nodeId', in: 'path' }, example: 'image' }),
  port: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/)
    .openapi({
      param: { name: 'port', in: 'path' },
      description: 'The output port holding the media reference (`image` for the image node).',
      example: 'image',
    }),
});

/** `POST /api/workflow/execute` body. @internal */
export const ExecuteBody = z
  .object({
    graph: z.looseObject({}).openapi({
      description: 'A workflow graph (format version 1): `{ version: 1, nodes: [...], edges: [...] }`.',
    }),
    initialPrompt: z
      .string()
      .max(MAX_PROMPT_LENGTH)
      .optional()
      .openapi({ description: "The creator's idea: replaces the text of the graph's prompt nodes." }),
  })
  .openapi('ExecuteWorkflow');

const RunStatusEnum = z.enum(['queued', 'running', 'completed', 'failed', 'cancelled']);

/** `POST /api/workflow/execute` answer. @internal */
export const ExecuteResponse = z
  .object({
    runId: z.string(),
    estimatedCost: z.number().int().openapi({ description: 'Credits held for the run.' }),
    estimatedDurationSeconds: z
      .number()
      .int()
      .openapi({ description: 'A rough duration: per node kind and provider, along the longest path.' }),
    status: RunStatusEnum,
  })
  .openapi('RunAccepted');

/** The `Idempotency-Key` request header (execute and rerun). @internal */
export const IdempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .optional()
    .openapi({
      param: { name: 'idempotency-key', in: 'header' },
      description:
        'Retry safely: the same key and body within 24 h answer the same run (header `Idempotent-Replayed: true`); the same key with another body is 409 IDEMPOTENCY_CONFLICT.',
      example: '7a4c2f0e-1b7d-4c55-9d0e-6a3f1f0b2c11',
    }),
});

/** `POST /api/workflow/runs/{runId}/rerun` body. @internal */
export const RerunBody = z
  .object({
    fromNodeId: z
      .string()
      .min(1)
      .max(255)
      .openapi({ description: 'The node to run again; everything downstream of it runs again too.' }),
    graph: z.looseObject({}).optional().openapi({
      description:
        "The graph with config changes (default: the earlier run's). Nodes whose config changed run again too.",
    }),
  })
  .openapi('RerunWorkflow');

const ErrorJson = z.object({ code: z.string(), message: z.string() }).passthrough();
const Timestamp = z.string().nullable().openapi({ format: 'date-time' });

/** One node of `GET /api/workflow/status/{runId}`. @internal */
export const NodeStatusSchema = z
  .object({
    nodeId: z.string(),
    nodeType: z.string(),
    status: z.enum(['pending', 'running', 'completed', 'failed', 'skipped', 'cancelled']),
    progress: z.number().openapi({ description: 'From 0 to 1.' }),
    message: z.string().nullable(),
    attempt: z.number().int(),
    startedAt: Timestamp,
    endedAt: Timestamp,
    durationMs: z.number().nullable(),
    cost: z.number().int().openapi({ description: 'Credits charged for this node.' }),
    output: z.unknown().openapi({ description: 'Media references and values; null until completed.' }),
    error: ErrorJson.nullable(),
  })
  .openapi('RunNodeStatus');

/** `GET /api/workflow/status/{runId}` answer. @internal */
export const RunStatusResponse = z
  .object({
    runId: z.string(),
    status: RunStatusEnum,
    queuePosition: z
      .number()
      .int()
      .nullable()
      .openapi({ description: '1 = next to start; null if not waiting.' }),
    estimatedCost: z.number().int(),
    estimatedDurationSeconds: z.number().int().nullable().openapi({ description: 'Null for older runs.' }),
    parentRunId: z
      .string()
      .nullable()
      .openapi({ description: 'For a rerun: the run whose outputs it reuses.' }),
    rerunFrom: z.string().nullable().openapi({ description: 'For a rerun: the node it ran again from.' }),
    cost: z.object({
      reserved: z.number().int(),
      captured: z.number().int(),
      released: z.number().int().nullable(),
    }),
    createdAt: z.string().openapi({ format: 'date-time' }),
    startedAt: Timestamp,
    finishedAt: Timestamp,
    error: ErrorJson.nullable(),
    lastEventSeq: z.number().int(),
    nodes: z.array(NodeStatusSchema),
    outputs: z.record(z.string(), z.unknown()),
    graph: z.looseObject({}).openapi({
      description:
        'The graph the run executes, as accepted (the initial prompt applied): what a canvas reopens and a rerun starts from.',
    }),
  })
  .openapi('RunStatus');

/** `GET /api/workflow/runs` query. @internal */
export const RunsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(400).optional(),
});

/** `GET /api/workflow/runs` answer. @internal */
export const RunsResponse = z
  .object({
    runs: z.array(
      z.object({
        runId: z.string(),
        status: RunStatusEnum,
        estimatedCost: z.number().int(),
        createdAt: z.string().openapi({ format: 'date-time' }),
        startedAt: Timestamp,
        finishedAt: Timestamp,
        error: ErrorJson.nullable(),
      }),
    ),
    nextCursor: z.string().nullable(),
  })
  .openapi('RunHistory');

/** `POST /api/workflow/runs/{runId}/cancel` answer. @internal */
export const CancelResponse = z
  .object({
    runId: z.string(),
    status: RunStatusEnum.openapi({ description: '`running` while the engine winds the run down.' }),
  })
  .openapi('RunCancel');

/** `GET /api/workflow/runs/{runId}/events` query. @internal */
export const EventsQuery = z.object({
  after: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .openapi({ description: 'Replay events after this seq (the `Last-Event-ID` header wins).' }),
});

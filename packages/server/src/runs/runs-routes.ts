import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { sql } from 'kysely';
import { MediaQuery } from '../contents/contents-schemas.ts';
import { serveMedia } from '../contents/serve-media.ts';
import { ApiError } from '../errors/api-error.ts';
import type { AppEnv } from '../http/app-env.ts';
import { createRouter, errorResponse } from '../http/create-router.ts';
import { createEventStreamBody } from '../http/event-stream-body.ts';
import { formatSseMessage } from '../http/format-sse-message.ts';
import { decodePageCursor, encodePageCursor } from '../http/page-cursor.ts';
import { requireUser } from '../http/require-auth.ts';
import { canonicalJson } from './canonical-json.ts';
import { followRunEvents, openRunEvents } from './follow-run-events.ts';
import { hashIdempotentRequest } from './idempotency-keys.ts';
import { readNodeMediaKey } from './read-node-media-key.ts';
import { readRunStatus } from './read-run-status.ts';
import {
  CancelResponse,
  EventsQuery,
  ExecuteBody,
  ExecuteResponse,
  IdempotencyHeaders,
  NodeMediaParams,
  RerunBody,
  RunIdParam,
  RunStatusResponse,
  RunsQuery,
  RunsResponse,
} from './runs-schemas.ts';
import { type StartWorkflowRunResult, startWorkflowRun } from './start-workflow-run.ts';

const json = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } } }) as const;
const security = [{ bearer: [] }];
const binary = z.string().openapi({ format: 'binary' });

/** `Last-Event-ID` (wins) or `?after=`, as a non-negative integer. */
function replayFrom(header: string | undefined, after: number | undefined): number {
  if (header === undefined || header.trim() === '') return after ?? 0;
  const value = Number(header.trim());
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ApiError('VALIDATION_FAILED', '"Last-Event-ID": must be an event seq (a whole number).', {
      details: { issues: [{ path: 'Last-Event-ID', message: 'must be a whole number' }] },
    });
  }
  return value;
}

/**
 * A run accepted (or replayed): 202 with the body as canonical JSON (sorted keys), so a replay of
 * an `Idempotency-Key` is byte-identical to the first answer whatever the database did to key order.
 */
function acceptedResponse(c: Context<AppEnv>, run: StartWorkflowRunResult) {
  const { replayed, ...body } = run;
  if (replayed) c.header('idempotent-replayed', 'true');
  c.header('content-type', 'application/json');
  return c.body(canonicalJson(body), 202);
}

const errorJson = (value: Readonly<Record<string, unknown>> | null) =>
  value === null
    ? null
    : { ...value, code: String(value.code ?? 'INTERNAL'), message: String(value.message ?? '') };

/**
 * The workflow run routes: execute a graph (validated, keys checked, priced, credits held, run
 * queued), a run's status, the history, cancel, and the run's events as Server-Sent Events
 * (replay after `Last-Event-ID`, then live, ending after the terminal event), and a node's media
 * (what its recorded output references, e.g. the image node's picture, as soon as it completes).
 * Every route is the caller's own: another user's run id answers 404. Mount with
 * `app.route('/', runsRoutes())`.
 * @internal
 */
export function runsRoutes() {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/workflow/execute',
      tags: ['runs'],
      summary: 'Run a workflow graph: validated, priced and credits held, then queued',
      security,
      request: { headers: IdempotencyHeaders, body: { required: true, ...json(ExecuteBody) } },
      responses: {
        202: {
          description: 'Accepted and queued (or replayed for a known Idempotency-Key)',
          ...json(ExecuteResponse),
        },
        400: errorResponse(
          'GRAPH_INVALID (every issue with node ids) or VALIDATION_FAILED (a missing key, a bad Idempotency-Key)',
        ),
        401: errorResponse('Not signed in'),
        402: errorResponse('INSUFFICIENT_CREDITS, with details.required and details.available'),
        429: errorResponse('DAILY_CAP_REACHED (daily credit cap; Retry-After) or RATE_LIMITED'),
        409: errorResponse('IDEMPOTENCY_CONFLICT: the Idempotency-Key was used with another request'),
      },
    }),
    async (c) => {
      const { userId } = requireUser(c);
      const body = c.req.valid('json');
      const key = c.req.valid('header')['idempotency-key'];
      const services = c.get('services');
      const run = await startWorkflowRun(services, {
        userId,
        graph: body.graph,
        initialPrompt: body.initialPrompt,
        idempotency:
          key === undefined
            ? undefined
            : { key, requestHash: hashIdempotentRequest('POST /api/workflow/execute', body) },
      });
      // The dashboards' hint goes out with the next notifications; the 202 does not wait for it.
      if (!run.replayed) void services.userEvents.publish(userId, { type: 'credits.changed' });
      services.log.info(
        {
          requestId: c.get('requestId'),
          userId,
          runId: run.runId,
          estimatedCost: run.estimatedCost,
          replayed: run.replayed,
        },
        run.replayed ? 'run replayed for its idempotency key' : 'run accepted',
      );
      return acceptedResponse(c, run) as never;
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/workflow/runs/{runId}/rerun',
      tags: ['runs'],
      summary: "Rerun from a node: a new run reusing the earlier run's outputs upstream of it",
      description:
        'Only `fromNodeId`, the nodes downstream of it and nodes whose config the optional `graph` changed run again; only they are estimated, held and charged ("same image, new video" charges the video). Reused nodes report `node.cached` with their earlier output.',
      security,
      request: {
        params: RunIdParam,
        headers: IdempotencyHeaders,
        body: { required: true, ...json(RerunBody) },
      },
      responses: {
        202: { description: 'The new run, accepted and queued', ...json(ExecuteResponse) },
        400: errorResponse('GRAPH_INVALID, or VALIDATION_FAILED (unknown fromNodeId, a missing key)'),
        401: errorResponse('Not signed in'),
        402: errorResponse('INSUFFICIENT_CREDITS, with details.required and details.available'),
        429: errorResponse('DAILY_CAP_REACHED (daily credit cap; Retry-After) or RATE_LIMITED'),
        404: errorResponse('No such run (or not yours)'),
        409: errorResponse('CONFLICT: the run has not ended; IDEMPOTENCY_CONFLICT'),
      },
    }),
    async (c) => {
      const { userId } = requireUser(c);
      const { runId } = c.req.valid('param');
      const body = c.req.valid('json');
      const key = c.req.valid('header')['idempotency-key'];
      const services = c.get('services');
      const run = await startWorkflowRun(services, {
        userId,
        graph: body.graph,
        rerun: { parentRunId: runId, fromNodeId: body.fromNodeId },
        idempotency:
          key === undefined
            ? undefined
            : { key, requestHash: hashIdempotentRequest(`POST /api/workflow/runs/${runId}/rerun`, body) },
      });
      // The dashboards' hint goes out with the next notifications; the 202 does not wait for it.
      if (!run.replayed) void services.userEvents.publish(userId, { type: 'credits.changed' });
      services.log.info(
        {
          requestId: c.get('requestId'),
          userId,
          runId: run.runId,
          parentRunId: runId,
          estimatedCost: run.estimatedCost,
        },
        'rerun accepted',
      );
      return acceptedResponse(c, run) as never;
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/workflow/status/{runId}',
      tags: ['runs'],
      summary: "A run's status: every node's status, progress, timings, output and cost",
      security,
      request: { params: RunIdParam },
      responses: {
        200: { description: 'The run', ...json(RunStatusResponse) },
        401: errorResponse('Not signed in'),
        404: errorResponse('No such run (or not yours)'),
      },
    }),
    async (c) => {
      const { userId } = requireUser(c);
      const { runId } = c.req.valid('param');
      const view = await readRunStatus(c.get('services'), { userId, runId });
      return c.json(
        {
          ...view,
          error: errorJson(view.error),
          nodes: view.nodes.map((node) => ({ ...node, error: errorJson(node.error) })),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/workflow/runs',
      tags: ['runs'],
      summary: 'Your runs, newest first, a page at a time',
      security,
      request: { query: RunsQuery },
      responses: {
        200: { description: 'A page of runs', ...json(RunsResponse) },
        400: errorResponse('Bad limit or cursor'),
        401: errorResponse('Not signed in'),
      },
    }),
    async (c) => {
      const { userId } = requireUser(c);
      const { limit, cursor } = c.req.valid('query');
      const after = cursor === undefined ? undefined : decodePageCursor(cursor);
      const rows = await c
        .get('services')
        .db.selectFrom('runs')
        .select(['id', 'status', 'estimated_cost', 'created_at', 'started_at', 'finished_at', 'error'])
        .where('user_id', '=', userId)
        .$if(after !== undefined, (query) =>
          query.where(sql<boolean>`(created_at, id) < (${after?.createdAt}::timestamptz, ${after?.id})`),
        )
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit + 1)
        .execute();
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return c.json(
        {
          runs: page.map((row) => ({
            runId: row.id,
            status: row.status,
            estimatedCost: row.estimated_cost,
            createdAt: row.created_at.toISOString(),
            startedAt: row.started_at?.toISOString() ?? null,
            finishedAt: row.finished_at?.toISOString() ?? null,
            error: errorJson(row.error),
          })),
          nextCursor:
            rows.length > limit && last !== undefined ? encodePageCursor(last.created_at, last.id) : null,
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/workflow/runs/{runId}/cancel',
      tags: ['runs'],
      summary: 'Cancel a run: nothing new starts, running nodes stop, the rest of the hold is released',
      security,
      request: { params: RunIdParam },
      responses: {
        202: { description: 'Cancelled, or being cancelled (status `running`)', ...json(CancelResponse) },
        401: errorResponse('Not signed in'),
        404: errorResponse('No such run (or not yours)'),
      },
    }),
    async (c) => {
      const { userId } = requireUser(c);
      const { runId } = c.req.valid('param');
      const services = c.get('services');
      const row = await services.db
        .selectFrom('runs')
        .select('status')
        .where('id', '=', runId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      if (row === undefined) throw new ApiError('NOT_FOUND', 'No such run.');
      const status =
        row.status === 'queued' || row.status === 'running' ? await services.runs.cancel(runId) : row.status;
      services.log.info({ requestId: c.get('requestId'), userId, runId }, 'run cancel requested');
      return c.json({ runId, status: status ?? row.status }, 202);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/workflow/runs/{runId}/events',
      tags: ['runs'],
      summary: "A run's events as Server-Sent Events: replayed after Last-Event-ID, then live",
      description:
        'Each message has `id` (the event seq), `event` (its type) and JSON `data` (the engine event). The stream ends after the terminal event (`run.completed`, `run.failed`, `run.cancelled`). Reconnect with `Last-Event-ID` (or `?after=`) to resume with no gap and no duplicate.',
      security,
      request: { params: RunIdParam, query: EventsQuery },
      responses: {
        200: { description: 'The event stream', content: { 'text/event-stream': { schema: z.string() } } },
        400: errorResponse('Bad Last-Event-ID or after'),
        401: errorResponse('Not signed in'),
        404: errorResponse('No such run (or not yours)'),
      },
    }),
    async (c) => {
      const { userId } = requireUser(c);
      const { runId } = c.req.valid('param');
      const after = replayFrom(c.req.header('last-event-id'), c.req.valid('query').after);
      const services = c.get('services');
      // Ownership, the replay and the row's status in one statement, before any byte is sent.
      const opened = await openRunEvents({
        db: services.db,
        bus: services.runs.events,
        runId,
        after,
        userId,
      });
      if (opened === undefined) throw new ApiError('NOT_FOUND', 'No such run.');
      // One stream the events are written to directly (see createEventStreamBody). Events
      // delivered together (the replay, a stored batch) go out as one chunk, as soon as they are
      // published; a slow client holds its own stream back (backpressure), no one else's.
      const stream = createEventStreamBody();
      const requestId = c.get('requestId');
      void followRunEvents({
        ...opened.options,
        opened,
        signal: stream.signal,
        sendBatch: async (events) => {
          let chunk = '';
          for (const event of events)
            chunk += formatSseMessage({
              id: String(event.seq),
              event: event.type,
              data: JSON.stringify(event.payload),
            });
          await stream.write(chunk);
        },
        heartbeat: () => stream.write(': keep-alive\n\n'),
      })
        .catch((error: unknown) => {
          opened.close();
          // The client reconnects with Last-Event-ID and misses nothing.
          services.log.error({ err: error, requestId, runId }, 'event stream failed');
        })
        .finally(() => stream.close());
      c.header('Content-Type', 'text/event-stream');
      c.header('Cache-Control', 'no-cache');
      c.header('Connection', 'keep-alive');
      return c.body(stream.body);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/workflow/runs/{runId}/nodes/{nodeId}/media/{port}',
      tags: ['runs'],
      summary: "A node's media (e.g. the image node's picture), streamed as soon as the node completes",
      description:
        "The file the node's recorded output references at `port` (for a rerun's reused node, its parent's), while the run runs and after it ends. Served as content media are: inline by default, `?download=1` for an attachment, a single `Range: bytes=…` answers 206 (416 past the end), or a 302 to a presigned URL when media is delivered by redirect.",
      security,
      request: { params: NodeMediaParams, query: MediaQuery },
      responses: {
        200: {
          description: 'The file',
          content: { 'image/png': { schema: binary }, 'video/mp4': { schema: binary } },
        },
        206: { description: 'The requested range', content: { 'video/mp4': { schema: binary } } },
        302: { description: 'Redirect to a presigned URL of the file (S3 redirect delivery)' },
        400: errorResponse('VALIDATION_FAILED: a malformed port'),
        401: errorResponse('Not signed in'),
        404: errorResponse('No such run (or not yours), or the node has no media at that port (yet)'),
        416: errorResponse('RANGE_NOT_SATISFIABLE: the range starts past the end of the file'),
      },
    }),
    async (c) => {
      const { userId } = requireUser(c);
      const { runId, nodeId, port } = c.req.valid('param');
      const { download } = c.req.valid('query');
      const services = c.get('services');
      const key = await readNodeMediaKey(services.db, { userId, runId, nodeId, port });
      return (await serveMedia(c, {
        blobs: services.media.blobs,
        key,
        name: `vidgenie-${runId}-${nodeId}-${port}`,
        download: download === '1' || download === 'true',
        ...(services.mediaRedirects === undefined ? {} : { redirects: services.mediaRedirects }),
      })) as never;
    },
  );

  return app;
}

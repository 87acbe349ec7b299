import { createRoute, z } from '@hono/zod-openapi';
import { sql } from 'kysely';
import { ApiError } from '../errors/api-error.ts';
import { createRouter, errorResponse } from '../http/create-router.ts';
import { decodePageCursor, encodePageCursor } from '../http/page-cursor.ts';
import { requireUser } from '../http/require-auth.ts';
import { contentView } from './content-view.ts';
import {
  ContentIdParam,
  ContentSchema,
  ContentsQuery,
  ContentsResponse,
  MediaParams,
  MediaQuery,
} from './contents-schemas.ts';
import { deleteContents } from './delete-contents.ts';
import { serveMedia } from './serve-media.ts';

const json = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } } }) as const;
const security = [{ bearer: [] }];
const binary = z.string().openapi({ format: 'binary' });

/**
 * The content library routes: the caller's contents (newest first, a page at a time), one content,
 * delete (the record and the media no other content of the caller uses), and the authorised media
 * route that streams a content's video, image or thumbnail from the blob store with Range support.
 * Every route is the caller's own: another user's content id answers 404, as an unknown one does.
 * Mount with `app.route('/', contentsRoutes())`.
 * @internal
 */
export function contentsRoutes() {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/contents',
      tags: ['contents'],
      summary: 'Your content library, newest first, a page at a time',
      security,
      request: { query: ContentsQuery },
      responses: {
        200: { description: 'A page of contents', ...json(ContentsResponse) },
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
        .db.selectFrom('contents')
        .selectAll()
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
          contents: page.map(contentView),
          nextCursor:
            rows.length > limit && last !== undefined ? encodePageCursor(last.created_at, last.id) : null,
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/contents/{contentId}',
      tags: ['contents'],
      summary: 'One content: prompts, media links, duration, resolution, size, cost, providers',
      security,
      request: { params: ContentIdParam },
      responses: {
        200: { description: 'The content', ...json(ContentSchema) },
        401: errorResponse('Not signed in'),
        404: errorResponse('No such content (or not yours)'),
      },
    }),
    async (c) => {
      const { userId } = requireUser(c);
      const { contentId } = c.req.valid('param');
      const row = await c
        .get('services')
        .db.selectFrom('contents')
        .selectAll()
        .where('id', '=', contentId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      if (row === undefined) throw new ApiError('NOT_FOUND', 'No such content.');
      return c.json(contentView(row), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/contents/{contentId}',
      tags: ['contents'],
      summary: 'Delete a content and its media',
      description:
        "Media another of your contents still uses (a rerun reuses its parent run's image) is kept until that content is deleted too.",
      security,
      request: { params: ContentIdParam },
      responses: {
        204: { description: 'Deleted' },
        401: errorResponse('Not signed in'),
        404: errorResponse('No such content (or not yours)'),
      },
    }),
    async (c) => {
      const { userId } = requireUser(c);
      const { contentId } = c.req.valid('param');
      const services = c.get('services');
      const result = await deleteContents(
        {
          db: services.db,
          blobs: services.media.blobs,
          log: services.log,
          now: services.now(),
          orphanGraceHours: services.config.VIDGENIE_ORPHAN_MEDIA_HOURS,
        },
        { ids: [contentId], userId },
      );
      if (result.contents === 0) throw new ApiError('NOT_FOUND', 'No such content.');
      services.log.info(
        {
          requestId: c.get('requestId'),
          userId,
          contentId,
          blobsDeleted: result.blobsDeleted,
          blobsKept: result.blobsKept,
        },
        'content deleted',
      );
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/contents/{contentId}/media/{kind}',
      tags: ['contents'],
      summary: "A content's video, image or thumbnail, streamed (Range supported)",
      description:
        'Inline by default; `?download=1` answers `Content-Disposition: attachment` with a file name. A single `Range: bytes=…` answers 206 with `Content-Range`; a range past the end answers 416.',
      security,
      request: { params: MediaParams, query: MediaQuery },
      responses: {
        200: {
          description: 'The file',
          content: { 'video/mp4': { schema: binary }, 'image/png': { schema: binary } },
        },
        206: { description: 'The requested range', content: { 'video/mp4': { schema: binary } } },
        401: errorResponse('Not signed in'),
        404: errorResponse('No such content (or not yours), or it has no media of that kind'),
        416: errorResponse('RANGE_NOT_SATISFIABLE: the range starts past the end of the file'),
      },
    }),
    async (c) => {
      const { userId } = requireUser(c);
      const { contentId, kind } = c.req.valid('param');
      const { download } = c.req.valid('query');
      const services = c.get('services');
      const row = await services.db
        .selectFrom('contents')
        .select(['image_key', 'video_key', 'thumbnail_key'])
        .where('id', '=', contentId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      if (row === undefined) throw new ApiError('NOT_FOUND', 'No such content.');
      const key = kind === 'video' ? row.video_key : kind === 'image' ? row.image_key : row.thumbnail_key;
      if (key === null) throw new ApiError('NOT_FOUND', `This content has no ${kind}.`);
      return (await serveMedia(c, {
        blobs: services.media.blobs,
        key,
        name: `vidgenie-${contentId}-${kind}`,
        download: download === '1' || download === 'true',
        ...(services.mediaRedirects === undefined ? {} : { redirects: services.mediaRedirects }),
      })) as never;
    },
  );

  return app;
}

import { z } from '@hono/zod-openapi';

/** The media of a content, as they appear in paths. @internal */
export const MEDIA_KINDS = ['video', 'image', 'thumbnail'] as const;
/** One of {@link MEDIA_KINDS}. @internal */
export type MediaKind = (typeof MEDIA_KINDS)[number];

/** `{contentId}` path parameter. @internal */
export const ContentIdParam = z.object({
  contentId: z
    .string()
    .min(1)
    .max(255)
    .openapi({ param: { name: 'contentId', in: 'path' }, example: 'cnt_3q2-7wXkQeM1c9b0sFh2Aw' }),
});

/** `{contentId}` and `{kind}` path parameters of the media route. @internal */
export const MediaParams = ContentIdParam.extend({
  kind: z.enum(MEDIA_KINDS).openapi({ param: { name: 'kind', in: 'path' }, example: 'video' }),
});

/** `GET /api/contents/{contentId}/media/{kind}` query. @internal */
export const MediaQuery = z.object({
  download: z
    .enum(['1', 'true', '0', 'false'])
    .optional()
    .openapi({ description: '`1`: `Content-Disposition: attachment` (save) instead of `inline` (play).' }),
});

const MediaLink = z
  .object({
    url: z.string().openapi({
      description: 'The authorised media route (plays inline; supports Range).',
      example: '/api/contents/cnt_3q2-7wXkQeM1c9b0sFh2Aw/media/video',
    }),
    downloadUrl: z.string().openapi({ description: 'The same with `?download=1` (saves as a file).' }),
  })
  .nullable();

/** One content of the library. @internal */
export const ContentSchema = z
  .object({
    id: z.string(),
    runId: z.string(),
    prompt: z.string(),
    enhancedPrompt: z.string().nullable(),
    media: z.object({ video: MediaLink, image: MediaLink, thumbnail: MediaLink }),
    durationSeconds: z
      .number()
      .nullable()
      .openapi({ description: "The video's duration; null without one." }),
    width: z.number().int().nullable(),
    height: z.number().int().nullable(),
    fileSizeBytes: z.number().int().openapi({ description: 'The size of the video (or of the image).' }),
    costCredits: z.number().int().openapi({ description: 'Credits the run was charged.' }),
    providers: z.object({
      text: z.string().nullable(),
      image: z.string().nullable(),
      video: z.string().nullable(),
    }),
    createdAt: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Content');

/** `GET /api/contents` query. @internal */
export const ContentsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(400).optional(),
});

/** `GET /api/contents` answer. @internal */
export const ContentsResponse = z
  .object({ contents: z.array(ContentSchema), nextCursor: z.string().nullable() })
  .openapi('ContentLibrary');

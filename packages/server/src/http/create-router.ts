import { OpenAPIHono, z } from '@hono/zod-openapi';
import { ApiError } from '../errors/api-error.ts';
import type { AppEnv } from './app-env.ts';

/**
 * A router for one feature's routes. Inputs are validated by the route's zod schemas; a failure
 * answers 400 `VALIDATION_FAILED` listing every issue (`path` and `message`), in the one error shape.
 * @internal
 */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error);
    },
  });
}

/**
 * A 400 `VALIDATION_FAILED` listing every zod issue in `details.issues`; its message says the first
 * three in words a person can act on ("Password must be at least 10 characters."). Values are never
 * echoed (they may be secrets).
 */
export function validationError(error: z.ZodError): ApiError {
  const issues = error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
  const shown = issues.slice(0, 3).map(({ path, message }) => {
    const text = message.replace(/[.\s]+$/, '');
    if (path === '') return `The request ${text}`;
    // Our own messages are predicates ("must be…"): with a top-level field they read as a
    // sentence. Nested fields and zod's own messages ("Invalid input…") are named by their path.
    return /^[a-z][a-zA-Z]*$/.test(path) && /^[a-z]/.test(text)
      ? `${humanField(path)} ${text}`
      : `"${path}": ${text}`;
  });
  const more = issues.length - shown.length;
  const message =
    shown.length === 0
      ? 'The request is invalid.'
      : `${shown.join('. ')}.${more > 0 ? ` (And ${more} more problem${more > 1 ? 's' : ''}.)` : ''}`;
  return new ApiError('VALIDATION_FAILED', message, { details: { issues } });
}

/** `fromNodeId` → `From node id`. */
function humanField(name: string): string {
  const words = name.replace(/([A-Z])/g, ' $1').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The error body, for OpenAPI response declarations. */
export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'NOT_FOUND' }),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .openapi('Error');

/** Declares an error response in a route's OpenAPI `responses`. */
export function errorResponse(description: string) {
  return { description, content: { 'application/json': { schema: ErrorBodySchema } } } as const;
}

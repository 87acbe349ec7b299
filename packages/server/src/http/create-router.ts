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

/** A 400 `VALIDATION_FAILED` listing every zod issue. Values are never echoed (they may be secrets). */
export function validationError(error: z.ZodError): ApiError {
  const issues = error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
  const first = issues[0];
  const message =
    first === undefined
      ? 'The request is invalid.'
      : `${first.path === '' ? 'The request' : `"${first.path}"`}: ${first.message}${issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : ''}`;
  return new ApiError('VALIDATION_FAILED', message, { details: { issues } });
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

import { ApiError } from '../errors/api-error.ts';

/**
 * A page cursor for lists ordered by (`created_at`, id) descending (run history, the content
 * library): the last row's `created_at` (ms) and id, opaque to clients.
 * @internal
 */
export function encodePageCursor(createdAt: Date, id: string): string {
  return Buffer.from(JSON.stringify([createdAt.getTime(), id])).toString('base64url');
}

/** Reads a cursor from {@link encodePageCursor}; 400 `VALIDATION_FAILED` for anything else. @internal */
export function decodePageCursor(cursor: string): { readonly createdAt: Date; readonly id: string } {
  try {
    const [ms, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof ms === 'number' && Number.isFinite(ms) && typeof id === 'string')
      return { createdAt: new Date(ms), id };
  } catch {
    // fall through
  }
  throw new ApiError('VALIDATION_FAILED', '"cursor": is not a cursor this server gave out.', {
    details: { issues: [{ path: 'cursor', message: 'is not a cursor this server gave out' }] },
  });
}

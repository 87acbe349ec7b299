import type { Context } from 'hono';

/**
 * The client's IP: the first `X-Forwarded-For` entry behind a trusted proxy, otherwise the socket's
 * remote address (`@hono/node-server` puts the Node request in `c.env.incoming`), else `unknown`.
 * @internal
 */
export function clientIp(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
    if (forwarded !== undefined && forwarded !== '') return forwarded;
  }
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? 'unknown';
}

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How long an idle connection stays open, in ms. */
const KEEP_ALIVE_MS = 60_000;

/** A request as a fake route sees it. */
export interface FakeRequest {
  readonly method: string;
  /** The path without the query string. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  /** The raw body. */
  readonly body: Buffer;
  /** Path parameters captured by the route's pattern (named groups). */
  readonly params: Readonly<Record<string, string>>;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json(): unknown;
}

/** What a route answers. */
export interface FakeResponse {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** An object is sent as JSON; a string or bytes as is. */
  readonly body?: unknown;
}

/** A fault injected into the next matching requests, as a provider outage would look on the wire. */
export type FakeFault =
  | {
      readonly kind: 'status';
      readonly status: number;
      readonly body?: unknown;
      readonly headers?: Readonly<Record<string, string>>;
    }
  /** Never answer (the client's timeout or abort must end the call). */
  | { readonly kind: 'hang' }
  /** Answer 200 with a body that is not the JSON the client expects. */
  | { readonly kind: 'malformed' }
  /** Wait before handling the request normally. */
  | { readonly kind: 'delay'; readonly ms: number };

/**
 * How long a fake waits before answering, in ms: the same for every route, per route name (routes
 * not named answer at once), or a function of the route name called for each request (a spread
 * of times, as real services have). Stands in for a provider's real response time.
 */
export type FakeLatency = number | Readonly<Record<string, number>> | ((route: string) => number);

/** Options of {@link startFakeHttpServer}. */
export interface FakeHttpServerOptions {
  /** Wait before answering each request, faults included (bar hangs). Default none. */
  readonly latencyMs?: FakeLatency | undefined;
}

/** One route of a fake server. */
export interface FakeRoute {
  readonly method: string;
  /** A path, or a pattern with named groups, e.g. `/^\/v1\/tasks\/(?<id>[^/]+)$/`. */
  readonly path: string | RegExp;
  /** A name for fault injection and counters, e.g. `chat.completions`. */
  readonly name: string;
  handle(request: FakeRequest): FakeResponse | Promise<FakeResponse>;
}

/** A running fake server. */
export interface FakeHttpServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  readonly url: string;
  /** How many requests each route name received. */
  readonly counts: Map<string, number>;
  /** The requests received, in order (method, path, route name, the Authorization header). */
  readonly log: {
    readonly method: string;
    readonly path: string;
    readonly route: string;
    readonly authorization?: string;
  }[];
  /** Queues faults for the next requests to a route name (each fault is used once, in order). */
  inject(route: string, ...faults: FakeFault[]): void;
  close(): Promise<void>;
}

/**
 * Starts an HTTP server on loopback (a free port) that answers with the given routes, counts
 * requests and injects faults: the base of the provider fakes in `@vidgenie/nodes/testing`.
 * Unknown routes answer 404 with a JSON error. `latencyMs` makes routes take a provider's time
 * to answer (benchmarks scale real response times down with it).
 *
 * @example
 * ```ts
 * import { startFakeHttpServer } from '@vidgenie/nodes/testing';
 * const server = await startFakeHttpServer([
 *   { method: 'GET', path: '/v1/ping', name: 'ping', handle: () => ({ body: { ok: true } }) },
 * ]);
 * server.inject('ping', { kind: 'status', status: 503 });
 * await server.close();
 * ```
 */
export async function startFakeHttpServer(
  routes: readonly FakeRoute[],
  options: FakeHttpServerOptions = {},
): Promise<FakeHttpServer> {
  const latency = options.latencyMs;
  const latencyOf = (name: string) =>
    typeof latency === 'number'
      ? latency
      : typeof latency === 'function'
        ? latency(name)
        : latency === undefined
          ? 0
          : (latency[name] ?? 0);
  const counts = new Map<string, number>();
  const log: FakeHttpServer['log'] = [];
  const faults = new Map<string, FakeFault[]>();
  const hanging = new Set<ServerResponse>();

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    let route: FakeRoute | undefined;
    let params: Record<string, string> = {};
    for (const candidate of routes) {
      if (candidate.method !== method) continue;
      if (typeof candidate.path === 'string') {
        if (candidate.path !== url.pathname) continue;
      } else {
        const match = candidate.path.exec(url.pathname);
        if (match === null) continue;
        params = { ...match.groups };
      }
      route = candidate;
      break;
    }
    const name = route?.name ?? 'unknown';
    counts.set(name, (counts.get(name) ?? 0) + 1);
    log.push({
      method,
      path: url.pathname,
      route: name,
      ...(req.headers.authorization === undefined ? {} : { authorization: req.headers.authorization }),
    });
    if (route === undefined) {
      return send(res, {
        status: 404,
        body: { error: { message: `No route for ${method} ${url.pathname}` } },
      });
    }
    const fault = faults.get(name)?.shift();
    const wait = fault?.kind === 'hang' ? 0 : latencyOf(name);
    // Unref'd: a closed fake does not keep the process alive for its pending answers.
    if (wait > 0) await new Promise((r) => setTimeout(r, wait).unref());
    if (fault?.kind === 'hang') {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    if (fault?.kind === 'status') {
      return send(res, {
        status: fault.status,
        body: fault.body ?? { error: { message: `injected ${fault.status}` } },
        ...(fault.headers === undefined ? {} : { headers: fault.headers }),
      });
    }
    if (fault?.kind === 'malformed') {
      return send(res, {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: '{"truncated": ',
      });
    }
    if (fault?.kind === 'delay') await new Promise((r) => setTimeout(r, fault.ms));
    const request: FakeRequest = {
      method,
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body,
      params,
      json: () => {
        try {
          return JSON.parse(body.toString('utf8')) as unknown;
        } catch {
          return undefined;
        }
      },
    };
    try {
      send(res, await route.handle(request));
    } catch (error) {
      send(res, {
        status: 500,
        body: { error: { message: error instanceof Error ? error.message : String(error) } },
      });
    }
  });
  // Idle connections stay open a minute, as behind the providers' front ends (Node's default of
  // 5 s let a loaded client reuse a socket the fake was closing: ECONNRESET no provider gives).
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    log,
    inject: (route, ...more) => faults.set(route, [...(faults.get(route) ?? []), ...more]),
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function send(res: ServerResponse, response: FakeResponse): void {
  const headers: Record<string, string> = { ...response.headers };
  let payload: string | Uint8Array = '';
  if (typeof response.body === 'string' || response.body instanceof Uint8Array) payload = response.body;
  else if (response.body !== undefined) {
    payload = JSON.stringify(response.body);
    headers['content-type'] ??= 'application/json';
  }
  res.writeHead(response.status ?? 200, headers);
  res.end(payload);
}

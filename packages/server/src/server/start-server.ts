import { Server as HttpServer } from 'node:http';
import { type ServerType, serve } from '@hono/node-server';
import type { AppServices } from '../http/app-env.ts';
import { createApp } from '../http/create-app.ts';

/** A listening server. */
export interface RunningServer {
  /** The base URL, e.g. `http://127.0.0.1:3000`. */
  readonly url: string;
  /** Stops accepting connections and waits for open requests to finish. */
  close(): Promise<void>;
  /** Ends every open connection now (event streams included); use after `close` when stopping. */
  closeConnections(): void;
}

/**
 * Serves the API on a port (0 picks a free one) and interface (loopback by default).
 *
 * @example
 * ```ts
 * import { createServices, loadConfig, startServer } from '@vidgenie/server';
 * const services = await createServices(loadConfig({ VIDGENIE_DATA_DIR: './.vidgenie-example' }));
 * const server = await startServer(services, { port: 0 });
 * console.log(server.url);
 * await server.close();
 * await services.close();
 * ```
 */
export function startServer(
  services: AppServices,
  options: { readonly port?: number; readonly host?: string } = {},
): Promise<RunningServer> {
  const app = createApp(services);
  const host = options.host ?? services.config.HOST;
  return new Promise((resolve, reject) => {
    let server: ServerType | undefined;
    try {
      server = serve(
        { fetch: app.fetch, port: options.port ?? services.config.PORT, hostname: host },
        (info) => {
          const shownHost = info.family === 'IPv6' ? `[${info.address}]` : info.address;
          resolve({
            url: `http://${shownHost}:${info.port}`,
            close: () =>
              new Promise<void>((done, fail) => {
                server?.close((error) => (error ? fail(error) : done()));
              }),
            closeConnections: () => {
              if (server !== undefined && 'closeAllConnections' in server) server.closeAllConnections();
            },
          });
        },
      );
      // Idle connections stay for the client's next request (see VIDGENIE_KEEP_ALIVE_SECONDS).
      if (server instanceof HttpServer)
        server.keepAliveTimeout = services.config.VIDGENIE_KEEP_ALIVE_SECONDS * 1000;
      server.once('error', reject);
    } catch (error) {
      reject(error);
    }
  });
}

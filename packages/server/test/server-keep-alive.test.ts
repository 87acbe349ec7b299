/**
 * `VIDGENIE_KEEP_ALIVE_SECONDS`: how long the server keeps an idle HTTP connection for the
 * client's next request. Checked over real sockets: a connection is reused within the setting and
 * closed by the server after it (sooner than Node's own 5 s), and a bad value is refused with a
 * message that says what to write.
 */
import { connect, type Socket } from 'node:net';
import { expect, it } from 'vitest';
import { loadConfig } from '../src/config/server-config.ts';
import { startServer } from '../src/server/start-server.ts';
import { createTestApp } from './support/test-app.ts';
import { describeEachDatabase } from './support/test-databases.ts';

/** Sends one `GET /healthz` on a raw connection; resolves with the status line once the response is whole. */
function healthz(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const head = text.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(text);
      if (head >= 0 && length !== null && text.length >= head + 4 + Number(length[1])) {
        socket.off('data', onData);
        resolve(text.slice(0, text.indexOf('\r\n')));
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n');
  });
}

describeEachDatabase('HTTP keep-alive', ({ database }) => {
  it('keeps an idle connection for the next request, then closes it after the setting', async () => {
    const t = await createTestApp(database(), { env: { VIDGENIE_KEEP_ALIVE_SECONDS: '2' } });
    const server = await startServer(t.services, { port: 0, host: '127.0.0.1' });
    const socket = connect(Number(new URL(server.url).port), '127.0.0.1');
    try {
      const ended = new Promise<number>((resolve) => socket.once('end', () => resolve(Date.now())));
      expect(await healthz(socket)).toBe('HTTP/1.1 200 OK');
      // Idle for half the setting: the server kept the connection, the next request rides on it.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(await healthz(socket)).toBe('HTTP/1.1 200 OK');
      const idleFrom = Date.now();
      // Past the setting the server ends it, well before Node's default of 5 s would.
      const closedAfter = await Promise.race([
        ended.then((at) => at - idleFrom),
        new Promise<number>((resolve) => setTimeout(() => resolve(Number.POSITIVE_INFINITY), 4500)),
      ]);
      expect(closedAfter).toBeGreaterThanOrEqual(1500);
      expect(closedAfter).toBeLessThan(4500);
    } finally {
      socket.destroy();
      await server.close();
      await t.services.close();
    }
  });

  it('defaults to 65 s (above a load balancer idle timeout of 60 s) and refuses bad values', () => {
    expect(loadConfig({}).VIDGENIE_KEEP_ALIVE_SECONDS).toBe(65);
    expect(() => loadConfig({ VIDGENIE_KEEP_ALIVE_SECONDS: '0' })).toThrow(
      /VIDGENIE_KEEP_ALIVE_SECONDS.*at least 1 second/,
    );
    expect(() => loadConfig({ VIDGENIE_KEEP_ALIVE_SECONDS: 'soon' })).toThrow(
      /VIDGENIE_KEEP_ALIVE_SECONDS.*number of seconds/,
    );
  });
});

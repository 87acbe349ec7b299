import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { createLogger } from '../../src/log/create-logger.ts';

/** A logger whose lines (JSON, one per entry) are kept in `lines`, for tests to scan. */
export function captureLog(level = 'debug'): { readonly log: Logger; readonly lines: string[] } {
  const lines: string[] = [];
  const log = createLogger({
    level,
    destination: new Writable({
      write(chunk, _encoding, callback) {
        lines.push(String(chunk));
        callback();
      },
    }),
  });
  return { log, lines };
}

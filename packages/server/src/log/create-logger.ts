import { type DestinationStream, type Logger, pino } from 'pino';

/**
 * Paths pino blanks in every log line: credentials in headers, bodies and errors. A second line of
 * defence: code never logs a key or token on purpose.
 */
export const REDACTED_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  '*.key',
  '*.apiKey',
  '*.password',
  '*.token',
  'key',
  'apiKey',
  'password',
  'token',
];

/**
 * The server's structured logger (JSON lines, one per event), with {@link REDACTED_PATHS} removed.
 *
 * @example
 * ```ts
 * import { createLogger } from '@vidgenie/server';
 * const log = createLogger({ level: 'info' });
 * log.info({ userId: 'usr_1' }, 'signed in');
 * ```
 */
export function createLogger(options: {
  readonly level: string;
  /** Where lines go (default stdout); tests pass a stream to scan what was logged. */
  readonly destination?: DestinationStream;
}): Logger {
  return pino(
    {
      level: options.level,
      redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
      base: { service: 'vidgenie' },
    },
    options.destination,
  );
}

import { z } from 'zod';

const port = z.coerce
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .min(1, 'must be between 1 and 65535')
  .max(65535, 'must be between 1 and 65535');

const booleanFlag = z
  .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
  .transform((value) => value === 'true' || value === '1');

/**
 * The server's settings, read from the environment. Every variable is optional; with none set the
 * server runs embedded (PGlite and a generated vault key under `VIDGENIE_DATA_DIR`).
 */
export const ServerConfigSchema = z.object({
  NODE_ENV: z
    .enum(['development', 'production', 'test'], { error: 'must be development, production or test' })
    .default('development'),
  PORT: port.default(3000),
  /** The interface to bind; loopback unless told otherwise. */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** The public URL (e.g. `https://vidgenie.example.com`): the allowed Origin for cookie writes; HTTPS turns on `Secure` cookies and HSTS. */
  VIDGENIE_PUBLIC_URL: z.url({ error: 'must be a URL such as https://vidgenie.example.com' }).optional(),
  VIDGENIE_DATA_DIR: z.string().min(1).default('./.vidgenie'),
  /** PostgreSQL; PGlite (embedded) when absent. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  /** The vault's key ring: `id:base64` entries (32-byte keys) separated by commas; the last one encrypts. */
  VIDGENIE_ENCRYPTION_KEYS: z.string().min(1).optional(),
  /** Days after which the active vault key should be rotated (PRD: 90). */
  VIDGENIE_KEY_ROTATION_DAYS: z.coerce.number().int().min(1, 'must be at least 1 day').default(90),
  /** Largest accepted request body, in bytes. */
  VIDGENIE_BODY_LIMIT: z.coerce.number().int().min(1024, 'must be at least 1024 bytes').default(1_048_576),
  /** Trust `X-Forwarded-For` / `X-Forwarded-Proto` from a reverse proxy. */
  VIDGENIE_TRUST_PROXY: booleanFlag.default(false),
  /** Open sign-up (true) or invitation only (false). */
  VIDGENIE_SIGNUP: booleanFlag.default(true),
  /** Base URLs of the hosted providers (a proxy, a regional endpoint, or a local fake in tests). */
  OPENAI_BASE_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  STABILITY_BASE_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  GEMINI_BASE_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  RUNWAY_BASE_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** The validated settings. */
export type ServerConfig = z.output<typeof ServerConfigSchema>;

/** The environment held a bad setting; the message names each one and what it expects. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** One line per bad setting. */
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.problems = problems;
  }
}

/**
 * Reads and validates the settings from an environment (default: `process.env`). Throws
 * {@link ConfigError} naming every bad variable at once. Values are never echoed back, since some
 * are secrets.
 *
 * @example
 * ```ts
 * import { loadConfig } from '@vidgenie/server';
 * const config = loadConfig({ PORT: '8080' });
 * console.log(config.PORT); // 8080
 * ```
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): ServerConfig {
  const present = Object.fromEntries(
    Object.keys(ServerConfigSchema.shape)
      .map((key) => [key, env[key]] as const)
      .filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = ServerConfigSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  return parsed.data;
}

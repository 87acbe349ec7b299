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
  /**
   * Seconds an idle HTTP connection stays open for its next request (default 65). A creator's
   * browser then sends Run on the connection that loaded the page, instead of opening one a busy
   * server accepts late (Node accepts one new connection per event-loop turn); behind a load
   * balancer it must exceed the balancer's idle timeout (60 s on AWS ALB), or requests sent as the
   * server closes the connection fail with 502.
   */
  VIDGENIE_KEEP_ALIVE_SECONDS: z.coerce
    .number({ error: 'must be a number of seconds from 1 to 600' })
    .min(1, 'must be at least 1 second')
    .max(600, 'must be at most 600 seconds')
    .default(65),
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
  /** Media on S3 (or an S3-compatible server) instead of files under `VIDGENIE_DATA_DIR/media`: the bucket, which must exist. */
  S3_BUCKET: z.string().min(3, 'must be a bucket name').max(255).optional(),
  /** The bucket's region (default: the AWS SDK's own lookup, e.g. `AWS_REGION`). */
  S3_REGION: z.string().min(1).optional(),
  /** An S3-compatible endpoint (MinIO, R2, s3rver…); AWS's own when absent. */
  S3_ENDPOINT: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  /** Static credentials (both or neither; default: the AWS SDK's credential chain). */
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  /** Path-style bucket URLs (`endpoint/bucket/key`), which most S3-compatible servers need. */
  S3_FORCE_PATH_STYLE: booleanFlag.default(false),
  /**
   * A CDN in front of the bucket (e.g. CloudFront with the bucket as origin, forwarding query
   * strings): media redirects point at it instead of the bucket, with the same signed path and query.
   */
  VIDGENIE_CDN_BASE_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  /**
   * How media downloads are delivered: `redirect` (the default with S3: after the owner check, a
   * 302 to a presigned URL valid 5 minutes, so S3 or the CDN serves the bytes and Range requests)
   * or `proxy` (the server streams the bytes; the only way with the filesystem store).
   */
  VIDGENIE_MEDIA_DELIVERY: z.enum(['redirect', 'proxy'], { error: 'must be redirect or proxy' }).optional(),
  /** Contents (and their media) older than this many days are deleted every hour; kept forever when unset. */
  VIDGENIE_MEDIA_RETENTION_DAYS: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number of days')
    .min(1, 'must be at least 1 day')
    .optional(),
  /**
   * Hours the media of a failed or cancelled run is kept (default 24), so a creator can still
   * "rerun from here" and reuse its image; then the hourly media cleanup deletes what no content
   * and no live run references.
   */
  VIDGENIE_ORPHAN_MEDIA_HOURS: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number of hours')
    .min(1, 'must be at least 1 hour')
    .max(8760, 'must be at most 8760 hours (a year)')
    .default(24),
  /** Credits one account may use per UTC day (captured plus held); off when absent. Accounts can override it. */
  VIDGENIE_DAILY_CREDIT_CAP: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .optional(),
  /** The Bearer token Prometheus sends to `GET /metrics` (admins may also read it with their session). */
  VIDGENIE_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /**
   * Whether `vidgenie serve` also executes runs (default true). With `DATABASE_URL`, set it to false
   * on API machines and run `vidgenie worker` processes elsewhere.
   */
  VIDGENIE_RUN_WORKER: booleanFlag.default(true),
  /** Runs one process executes at once, all users together (default 20). */
  VIDGENIE_WORKER_CONCURRENCY: z.coerce
    .number()
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .default(20),
  /** Seconds a run's lease lasts without a heartbeat (default 15): a crashed worker's runs move within about twice that. */
  VIDGENIE_LEASE_SECONDS: z.coerce.number().min(1, 'must be at least 1 second').max(600).default(15),
  /**
   * How long Runway and Veo wait before their first status poll of a video job, in ms (the wait
   * then grows ×1.5 up to three times this). Default: the providers' own (5 s). Tests and benches
   * shorten it with fast fakes.
   */
  VIDGENIE_VIDEO_POLL_MS: z.coerce
    .number()
    .int('must be a whole number of ms')
    .min(10)
    .max(600_000)
    .optional(),
  /**
   * Connections each process keeps to PostgreSQL (default 10; pg-boss and the event bridge add 5, and
   * a process that executes runs 2 for its runs' writes).
   */
  VIDGENIE_DB_POOL_SIZE: z.coerce
    .number()
    .int('must be a whole number')
    .min(2, 'must be at least 2')
    .max(500)
    .default(10),
  /**
   * ffmpeg processes (renders, probes, poster frames) this process runs at once; more wait their
   * turn. Default: one per CPU core, as encoding is CPU-bound (unbounded, 500 renders at once took
   * as long each as all of them together and starved the server's event loop).
   */
  VIDGENIE_FFMPEG_CONCURRENCY: z.coerce
    .number({ error: 'must be a whole number from 1 to 256' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(256, 'must be at most 256')
    .optional(),
  /**
   * How much lower than the server ffmpeg runs (its Unix niceness above the server's), so that on
   * a busy machine requests, database writes and event deliveries get the cores first. Default 10;
   * 0 runs ffmpeg at the server's priority.
   */
  VIDGENIE_FFMPEG_NICE: z.coerce
    .number({ error: 'must be a whole number from 0 to 19' })
    .int('must be a whole number')
    .min(0, 'must be at least 0')
    .max(19, 'must be at most 19')
    .optional(),
  /** Seconds SIGTERM waits for running runs before giving their leases up (default 25). */
  VIDGENIE_SHUTDOWN_GRACE_SECONDS: z.coerce.number().min(0).max(3600).default(25),
  /**
   * Provider calls at once per (provider, user key), per process: `name=number` entries, where a
   * name is a kind (`text`, `image`, `video`) or a provider id, e.g. `video=2,openai-image=1`.
   * Defaults: text 8, image 4, video 4 (job submissions only).
   */
  VIDGENIE_PROVIDER_KEY_CONCURRENCY: z
    .string()
    .regex(
      /^\s*[a-z0-9][a-z0-9-]*\s*=\s*[1-9]\d*\s*(,\s*[a-z0-9][a-z0-9-]*\s*=\s*[1-9]\d*\s*)*$/,
      'must be name=number entries separated by commas, e.g. text=8,video=2,openai-image=1',
    )
    .optional(),
  /**
   * The built creator app (`packages/ui/dist`), served for every path outside `/api` with
   * index.html as the fallback. Default: the `@vidgenie/ui` package's `dist` when it exists.
   */
  VIDGENIE_UI_DIR: z.string().min(1).optional(),
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

import type { MediaServices, ProviderRegistry } from '@vidgenie/nodes';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { SessionFinder } from '../accounts/session-finder.ts';
import type { ServerConfig } from '../config/server-config.ts';
import type { MediaRedirects } from '../contents/media-redirects.ts';
import type { DB, UserRole } from '../db/schema.ts';
import type { UserEventHub } from '../events/user-event-hub.ts';
import type { CreditLedger } from '../ledger/credit-ledger.ts';
import type { Metrics } from '../metrics/create-metrics.ts';
import type { RunExecutor } from '../runs/run-executor.ts';
import type { ProviderKeyVault } from '../vault/provider-key-vault.ts';
import type { RateLimits } from './rate-limits.ts';

/** Who is calling: set by the auth middleware from a session cookie or a Bearer token. */
export interface AuthContext {
  readonly userId: string;
  readonly role: UserRole;
  /** How the caller authenticated: cookie writes need a same-origin check; Bearer ones do not. */
  readonly via: 'session' | 'token';
}

/** Everything a route needs, built once per server. */
export interface AppServices {
  readonly db: Kysely<DB>;
  readonly config: ServerConfig;
  readonly log: Logger;
  readonly vault: ProviderKeyVault;
  readonly ledger: CreditLedger;
  readonly providers: ProviderRegistry;
  /** Where media lives (the nodes' blob store) and the tools that probe it. */
  readonly media: MediaServices;
  /** Media delivered by redirect to presigned URLs (S3, `VIDGENIE_MEDIA_DELIVERY=redirect`); else streamed. */
  readonly mediaRedirects?: MediaRedirects;
  readonly limits: RateLimits;
  /** Session cookies' users (lookups gathered across requests). */
  readonly findSession: SessionFinder;
  /** Each user's dashboard stream: runs finished, credits changed (across machines in distributed mode). */
  readonly userEvents: UserEventHub;
  /** Workflow runs: the in-process executor (queue, engine, stored events). */
  readonly runs: RunExecutor;
  /** The current time (tests move it). */
  readonly now: () => Date;
  /** Prometheus metrics (`GET /metrics`), fed by the run event bus. */
  readonly metrics: Metrics;
  /** True once the services started closing: `GET /readyz` answers 503. */
  readonly isClosing: () => boolean;
}

/** Hono's environment for every route: typed context variables. */
export interface AppEnv {
  Variables: {
    services: AppServices;
    auth: AuthContext | undefined;
    requestId: string;
    /** The client's address (from the socket, or `X-Forwarded-For` behind a trusted proxy). */
    clientIp: string;
  };
}

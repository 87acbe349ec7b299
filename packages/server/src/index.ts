/**
 * `@vidgenie/server`: VidGenie's HTTP API and its services: accounts, the bring-your-own-key
 * vault (AES-256-GCM), the two-phase credits ledger, and the data layer on PGlite or PostgreSQL.
 * The `vidgenie` command (`serve`, `migrate`, `keys rotate`) is built on these exports.
 *
 * @module
 */

// Accounts
export type { FoundSession, SessionFinder } from './accounts/session-finder.ts';
// Analytics
export {
  type AdminStats,
  type DurationPercentiles,
  readAdminStats,
} from './analytics/read-admin-stats.ts';
export {
  type AnalyticsEvent,
  type AnalyticsEventName,
  recordAnalyticsEvent,
  recordAnalyticsEvents,
} from './analytics/record-analytics-event.ts';
export type { RunFact, RunFactNode, RunFactRun, RunFactsListener } from './analytics/tap-run-facts.ts';
// Audit log
export {
  type AuditAction,
  type AuditEntry,
  type AuditRecord,
  listAudit,
  recordAudit,
  type VaultAuditAction,
} from './audit/audit-log.ts';
// Configuration
export { ConfigError, loadConfig, type ServerConfig, ServerConfigSchema } from './config/server-config.ts';
export {
  type CollectOrphanMediaOptions,
  type CollectOrphanMediaResult,
  collectOrphanMedia,
} from './contents/collect-orphan-media.ts';
// Content library and media
export {
  type BlobStoreConfig,
  type ConfiguredBlobStore,
  createBlobStore,
} from './contents/create-blob-store.ts';
export {
  type DeleteContentsOptions,
  type DeleteContentsResult,
  deleteContents,
} from './contents/delete-contents.ts';
export { type DeleteExpiredMediaOptions, deleteExpiredMedia } from './contents/delete-expired-media.ts';
export {
  MEDIA_CLEANUP_CRON,
  MEDIA_CLEANUP_JOB,
  type MediaCleanupOptions,
  type MediaCleanupReport,
  runMediaCleanup,
} from './contents/media-cleanup.ts';
export { type ByteRange, parseByteRange } from './contents/parse-byte-range.ts';
export { type QueueRunOrphansOptions, queueRunOrphans } from './contents/queue-run-orphans.ts';
export { type RecordContentOptions, recordContent } from './contents/record-content.ts';
export { sliceStream } from './contents/slice-stream.ts';
export {
  createUserScopedBlobStore,
  type UserScopedBlobStoreOptions,
} from './contents/user-scoped-blob-store.ts';
export type { DatabasePool, DatabasePoolCounts } from './db/database-pool.ts';
// Data layer
export { type MigrateReport, MigrationError, migrateToLatest } from './db/migrate.ts';
export { type Database, type DatabaseOptions, openDatabase } from './db/open-database.ts';
export type {
  ContentRow,
  ContentsTable,
  CreditAccountRow,
  CreditHoldRow,
  DB,
  HoldState,
  KeyStatus,
  LedgerEntryKind,
  LedgerEntryRow,
  NodeCheckpointStatus,
  PlanId,
  ProviderKeyBackoffsTable,
  ProviderKeyRow,
  RunCheckpointStatus,
  RunRow,
  RunRowStatus,
  UserRole,
  UserRow,
} from './db/schema.ts';
export { ApiError, type ApiErrorBody } from './errors/api-error.ts';
// Errors
export { API_ERROR_STATUS, type ApiErrorCode, ENGINE_ERROR_API_CODE } from './errors/api-error-code.ts';
export {
  createUserEventHub,
  USER_EVENTS_CHANNEL,
  type UserEvent,
  type UserEventHub,
} from './events/user-event-hub.ts';
// HTTP
export type { AppEnv, AppServices, AuthContext } from './http/app-env.ts';
export { createApp } from './http/create-app.ts';
export { RATE_LIMITS, type RateLimitName, type RateLimits } from './http/rate-limits.ts';
export { requireAdmin, requireUser } from './http/require-auth.ts';
export { newId } from './ids/new-id.ts';
export type { CreditBalance } from './ledger/balance.ts';
export type { CaptureArgs, CaptureResult } from './ledger/capture.ts';
export type { CreditAccount } from './ledger/credit-account.ts';
export type { CreditHold } from './ledger/credit-hold.ts';
// Credits ledger
export {
  type CreateCreditLedgerOptions,
  type CreditLedger,
  createCreditLedger,
} from './ledger/credit-ledger.ts';
export { estimateWorkflow } from './ledger/estimate-workflow.ts';
export type { GrantArgs, GrantResult } from './ledger/grant.ts';
export type { HistoryEntry, HistoryOptions, HistoryPage } from './ledger/history.ts';
export { createLedgerBillingHooks, type LedgerBillingHooksOptions } from './ledger/ledger-billing-hooks.ts';
export type { OpenAccountArgs } from './ledger/open-account.ts';
export {
  addMonths,
  type BillingPeriod,
  currentPeriod,
  PLAN_IDS,
  PLANS,
  type Plan,
  renewalTopUp,
} from './ledger/plans.ts';
export type { AccountDrift, HoldDrift, ReconcileReport } from './ledger/reconcile.ts';
export type { ReleaseArgs, ReleaseResult } from './ledger/release.ts';
export type { RenewReport } from './ledger/renew-accounts.ts';
export type { ReserveArgs, ReserveResult } from './ledger/reserve.ts';
export type { ResolvedState } from './ledger/resolve-hold.ts';
export { type SetDailyCreditCapArgs, setDailyCreditCap } from './ledger/set-daily-credit-cap.ts';
export type { SetPlanArgs } from './ledger/set-plan.ts';
export { type LedgerMaintenanceOptions, startLedgerMaintenance } from './ledger/start-ledger-maintenance.ts';
export type { SweepReport } from './ledger/sweep-expired-holds.ts';
export { createLogger, REDACTED_PATHS } from './log/create-logger.ts';
// Metrics
export {
  type CreateMetricsOptions,
  createMetrics,
  type Metrics,
  NODE_DURATION_BUCKETS,
  POOL_WAIT_BUCKETS,
} from './metrics/create-metrics.ts';
export { createFifoSemaphore, type FifoSemaphore } from './providers/fifo-semaphore.ts';
export {
  DEFAULT_KEY_BACKOFF_POLICY,
  type KeyBackoffPolicy,
  keyBackoffDelay,
} from './providers/key-backoff-delay.ts';
export type { KeyBackoffState, KeyBackoffStore } from './providers/key-backoff-store.ts';
export {
  DEFAULT_PROVIDER_KEY_CONCURRENCY,
  limitProviderKeys,
  type ProviderKeyConcurrency,
  type ProviderKeyLimitsLog,
  type ProviderKeyLimitsOptions,
} from './providers/limit-provider-keys.ts';
export {
  createMemoryKeyBackoffStore,
  type MemoryKeyBackoffStoreOptions,
} from './providers/memory-key-backoff-store.ts';
export {
  PROVIDER_KEY_CONCURRENCY_PATTERN,
  parseProviderKeyConcurrency,
} from './providers/parse-provider-key-concurrency.ts';
export { providerKeyHash } from './providers/provider-key-hash.ts';
export { serverProviders } from './providers/server-providers.ts';
export {
  createSqlKeyBackoffStore,
  KEY_BACKOFF_CHANNEL,
  type SqlKeyBackoffStore,
  type SqlKeyBackoffStoreOptions,
} from './providers/sql-key-backoff-store.ts';
export { DURATION_FIGURES, estimateRunSeconds } from './runs/estimate-duration.ts';
// Durable runs
export {
  type FollowRunEventsExtras,
  type FollowRunEventsOptions,
  followRunEvents,
  type OpenedRunEvents,
  type OpenRunEventsOptions,
  openRunEvents,
  type RunEventsSender,
} from './runs/follow-run-events.ts';
export {
  IDEMPOTENCY_KEY_TTL_MS,
  type IdempotentRequest,
  pruneIdempotencyKeys,
  type StoredResponse,
} from './runs/idempotency-keys.ts';
export { type MissingProviderKey, missingProviderKeys } from './runs/missing-provider-keys.ts';
export { type RunNodeStatus, type RunStatusView, readRunStatus } from './runs/read-run-status.ts';
export {
  createRunEventBus,
  type RunEventBus,
  type RunEventListener,
  type StoredRunEvent,
} from './runs/run-event-bus.ts';
export {
  createRunExecutor,
  DEFAULT_RUN_HOLD_TTL_MS,
  type Finish,
  type RunEnded,
  type RunExecutor,
  type RunExecutorOptions,
} from './runs/run-executor.ts';
export { createRunQueue, type RunQueue, type RunQueueJob, type RunQueueOptions } from './runs/run-queue.ts';
export { createSqlCheckpointStore, type SqlCheckpointStoreOptions } from './runs/sql-checkpoint-store.ts';
export {
  type StartedRun,
  type StartWorkflowRunArgs,
  type StartWorkflowRunResult,
  startWorkflowRun,
} from './runs/start-workflow-run.ts';
export { isTerminalRunEvent, TERMINAL_RUN_EVENT_TYPES } from './runs/terminal-run-events.ts';
export { type RunningServer, startServer } from './server/start-server.ts';
export {
  type CreateServicesOptions,
  createServices,
  databaseOptions,
  type Services,
} from './services/create-services.ts';
// Templates
export {
  BUILTIN_SHORT_VIDEO_TEMPLATE_ID,
  listTemplates,
  type TemplateContext,
  type WorkflowTemplate,
} from './templates/templates-service.ts';
// Key vault
export {
  createKeyRing,
  generateVaultKey,
  KEY_ID_PATTERN,
  type KeyRing,
  type KeyRingEntry,
  KeyRingError,
  type KeyRingKey,
  type KeyRingSource,
  parseKeyRing,
  VAULT_KEY_BYTES,
} from './vault/key-ring.ts';
export { PROVIDER_KEY_AAD_DOMAIN, providerKeyAad } from './vault/provider-key-aad.ts';
export { MAX_PROVIDER_KEY_LENGTH } from './vault/provider-key-input.ts';
export {
  type ProviderKeySlot,
  type ProviderKeySlotProvider,
  providerKeySlots,
} from './vault/provider-key-slots.ts';
export {
  createProviderKeyVault,
  type DecryptProviderKeyArgs,
  type ProviderKeyEntry,
  type ProviderKeyVault,
  type ProviderKeyVaultOptions,
  type RemoveProviderKeyArgs,
  type SaveProviderKeyArgs,
  type TestProviderKeyArgs,
  type VaultKeyStats,
} from './vault/provider-key-vault.ts';
export { type ResolvedKeyRing, resolveKeyRing } from './vault/resolve-key-ring.ts';
export type { RewrapOptions, RewrapReport } from './vault/rewrap-provider-keys.ts';
export { formatRotateKeysReport, type RotateKeysReport, rotateKeys } from './vault/rotate-keys.ts';
export { SEALED_FORMAT_VERSION, type SealedValue, seal, UnsealError, unseal } from './vault/seal.ts';
export {
  type BackgroundRewrapOptions,
  startBackgroundRewrap,
  type VaultLog,
} from './vault/start-background-rewrap.ts';
export {
  type KeyFileResult,
  loadOrCreateKeyFile,
  rotateKeyFile,
  VAULT_KEY_FILE_NAME,
} from './vault/vault-key-file.ts';

/**
 * The API's JSON shapes the app reads, mirrored from the server's OpenAPI document
 * (`GET /api/openapi.json`). Only the fields the app uses are listed.
 */

export interface User {
  readonly id: string;
  readonly email: string;
  readonly role: 'user' | 'admin';
  readonly createdAt: string;
}

export interface UserResponse {
  readonly user: User;
}

export interface CreditBalance {
  readonly plan: 'free' | 'starter' | 'pro' | 'enterprise';
  readonly balance: number;
  readonly held: number;
  /** Null when unlimited. */
  readonly available: number | null;
  readonly unlimited: boolean;
  readonly renewsAt: string;
  /** Credits charged since 00:00 UTC. */
  readonly usedToday: number;
  /** Credits charged since Monday 00:00 UTC. */
  readonly usedThisWeek: number;
}

export type LedgerKind =
  | 'grant'
  | 'renewal'
  | 'purchase'
  | 'reserve'
  | 'capture'
  | 'release'
  | 'expire'
  | 'adjustment';

export interface CreditHistoryEntry {
  readonly id: string;
  readonly kind: LedgerKind;
  /** Credits moved (never negative); see `kind`. */
  readonly amount: number;
  readonly balanceDelta: number;
  readonly heldDelta: number;
  readonly balanceAfter: number;
  readonly reason: string;
  readonly runId: string | null;
  readonly createdAt: string;
}

export interface CreditHistory {
  readonly entries: readonly CreditHistoryEntry[];
  readonly nextCursor: string | null;
}

export interface CostEstimate {
  readonly total: number;
  readonly nodes: readonly { readonly nodeId: string; readonly nodeType: string; readonly cost: number }[];
  readonly available: number | null;
  readonly enough: boolean;
}

export type RunStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

export interface RunAccepted {
  readonly runId: string;
  readonly estimatedCost: number;
  readonly estimatedDurationSeconds: number;
  readonly status: RunStatus;
}

export interface MediaLink {
  readonly url: string;
  readonly downloadUrl: string;
}

export interface Content {
  readonly id: string;
  readonly runId: string;
  readonly prompt: string;
  readonly enhancedPrompt: string | null;
  readonly media: {
    readonly video: MediaLink | null;
    readonly image: MediaLink | null;
    readonly thumbnail: MediaLink | null;
  };
  readonly durationSeconds: number | null;
  readonly width: number | null;
  readonly height: number | null;
  readonly fileSizeBytes: number;
  readonly costCredits: number;
  readonly createdAt: string;
}

export interface ContentList {
  readonly contents: readonly Content[];
  readonly nextCursor: string | null;
}

/** One run of `GET /api/workflow/runs` (newest first). */
export interface RunSummary {
  readonly runId: string;
  readonly status: RunStatus;
  readonly estimatedCost: number;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly error: { readonly code: string; readonly message: string } | null;
}

export interface RunHistory {
  readonly runs: readonly RunSummary[];
  readonly nextCursor: string | null;
}

/** A saved graph (`GET /api/templates`); the built-in one is read-only. */
export interface Template {
  readonly id: string;
  readonly name: string;
  readonly builtIn: boolean;
  readonly graph: Readonly<Record<string, unknown>>;
  readonly createdAt: string | null;
  readonly updatedAt: string | null;
}

export interface TemplateList {
  readonly templates: readonly Template[];
}

export type KeyStatus = 'valid' | 'invalid' | 'unchecked';

export interface ProviderKey {
  readonly providerId: string;
  readonly label: string;
  readonly lastFour: string;
  readonly status: KeyStatus;
  readonly statusReason: string | null;
  readonly checkedAt: string | null;
  readonly updatedAt: string;
  readonly providers: readonly string[];
}

export type ProviderKind = 'text' | 'image' | 'video';

export interface ProviderKeySlot {
  readonly providerId: string;
  readonly label: string;
  readonly providers: readonly {
    readonly id: string;
    readonly displayName: string;
    readonly kind: ProviderKind;
  }[];
  readonly testable: boolean;
}

export interface ProviderKeys {
  readonly keys: readonly ProviderKey[];
  readonly slots: readonly ProviderKeySlot[];
}

/** P95 and P99 of a duration, in seconds; null without data. */
export interface DurationPercentiles {
  readonly p95: number | null;
  readonly p99: number | null;
}

/** `GET /api/admin/stats?days=`: the admin figures (PRD section 13) over the last `windowDays` days. */
export interface AdminStats {
  readonly windowDays: number;
  readonly since: string;
  readonly activeRuns: { readonly queued: number; readonly running: number };
  readonly runs: {
    readonly completed: number;
    readonly failed: number;
    readonly cancelled: number;
    /** completed / (completed + failed); null without any. */
    readonly successRate: number | null;
    readonly averageCreditsPerCompletedRun: number | null;
    readonly durationSeconds: DurationPercentiles;
  };
  readonly nodes: readonly {
    readonly nodeType: string;
    readonly completed: number;
    readonly failed: number;
    readonly successRate: number | null;
    readonly durationSeconds: DurationPercentiles;
  }[];
  readonly providerErrors: readonly {
    readonly provider: string;
    readonly code: string;
    readonly failure: string;
    readonly count: number;
  }[];
}

/** `GET /api/admin/vault`: the vault's active key, its age and rotation state. */
export interface VaultStatus {
  readonly activeKeyId: string;
  readonly activeKeyCreatedAt: string;
  readonly activeKeyAgeDays: number;
  readonly rotationDays: number;
  readonly rotationDue: boolean;
  readonly rowsByKeyId: Readonly<Record<string, number>>;
  readonly rowsNotOnActiveKey: number;
  readonly unknownKeyIds: readonly string[];
}

/** `GET /api/admin/ledger/reconciliation`: balances recomputed from the ledger; drift should be empty. */
export interface LedgerReconciliation {
  readonly accounts: number;
  readonly drift: readonly Readonly<Record<string, unknown>>[];
  readonly holdDrift: readonly Readonly<Record<string, unknown>>[];
}

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
}

export interface ContentList {
  readonly contents: readonly Content[];
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

/**
 * The API's JSON shapes the app reads, named for the app. Every one is derived from the server's
 * OpenAPI document (`GET /api/openapi.json`) through the types generated from it in
 * `openapi-types.ts` (`npx tsx scripts/generate-api-types.ts`), so a change of the API shows up
 * here as a type error instead of a silent mismatch.
 *
 * The document types graphs loosely (an object of any keys: the server validates them against the
 * node registry), so the graph the canvas edits and sends keeps the engine's own types
 * (`WorkflowGraphInput` in `../graph/graph-types.ts`); a template's `graph` stays an unknown
 * object until `graphOfTemplate` checks it.
 */
import type { components } from './openapi-types.ts';
import type { ResponseOf } from './operation-types.ts';

type Schemas = components['schemas'];

/** A signed-up account. */
export type User = Schemas['User'];

/** `GET /api/auth/me`, and the answer of sign-up and sign-in. */
export type UserResponse = ResponseOf<'/api/auth/me', 'get'>;

/** `GET /api/credits/balance`: plan, balance, held, available, renewal, used today and this week. */
export type CreditBalance = Schemas['CreditBalance'];

/** One entry of the credit ledger. */
export type CreditHistoryEntry = Schemas['CreditHistoryEntry'];

/** Why credits moved: granted, renewed, bought, held for a run, charged, released, expired, adjusted. */
export type LedgerKind = CreditHistoryEntry['kind'];

/** `GET /api/credits/history`: a page of the ledger, newest first. */
export type CreditHistory = Schemas['CreditHistory'];

/** `POST /api/workflow/estimate`: the graph's cost per node and the credits available. */
export type CostEstimate = Schemas['CostEstimate'];

/** `POST /api/workflow/execute` and `.../rerun`: the run was queued. */
export type RunAccepted = Schemas['RunAccepted'];

/** Where a run is: queued, running, or how it ended. */
export type RunStatus = RunAccepted['status'];

/** A generated content of the library (video, image, thumbnail, facts and cost). */
export type Content = Schemas['Content'];

/** The authorised media route of a content's video, image or thumbnail. */
export type MediaLink = NonNullable<Content['media']['video']>;

/** `GET /api/contents`: a page of the library, newest first. */
export type ContentList = Schemas['ContentLibrary'];

/** `GET /api/workflow/runs`: a page of the caller's runs, newest first. */
export type RunHistory = Schemas['RunHistory'];

/** One run of `GET /api/workflow/runs`. */
export type RunSummary = RunHistory['runs'][number];

/** A saved graph (`GET /api/templates`); the built-in one is read-only. Its graph is checked on use. */
export type Template = Schemas['WorkflowTemplate'];

/** `GET /api/templates`: the built-in template first, then the caller's. */
export type TemplateList = Schemas['WorkflowTemplates'];

/** A saved provider key, masked: its last four characters and whether the provider accepted it. */
export type ProviderKey = Schemas['ProviderKey'];

/** Whether a provider accepted a key when it was last tested. */
export type KeyStatus = ProviderKey['status'];

/** A key the server's providers can use, saved or not, with the providers that use it. */
export type ProviderKeySlot = Schemas['ProviderKeySlot'];

/** What a provider makes: text, an image or a video. */
export type ProviderKind = ProviderKeySlot['providers'][number]['kind'];

/** `GET /api/user/api-keys`: the caller's saved keys and every slot. */
export type ProviderKeys = ResponseOf<'/api/user/api-keys', 'get'>;

/** `GET /api/admin/stats?days=`: the admin figures (PRD section 13) over the last `windowDays` days. */
export type AdminStats = Schemas['AdminStats'];

/** P95 and P99 of a duration, in seconds; null without data. */
export type DurationPercentiles = AdminStats['runs']['durationSeconds'];

/** `GET /api/admin/vault`: the vault's active key, its age and rotation state. */
export type VaultStatus = Schemas['VaultStatus'];

/** `GET /api/admin/ledger/reconciliation`: balances recomputed from the ledger; drift should be empty. */
export type LedgerReconciliation = Schemas['LedgerReconciliation'];

import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { newId } from '../ids/new-id.ts';

/**
 * The analytics events this server records (PRD section 13), plus any other dotted name. Runs:
 * `workflow.started` / `.completed` / `.failed` / `.cancelled`; nodes: `node.completed`,
 * `node.failed`, `node.retried` (a provider error that will be retried); the PRD's
 * `generation.prompt_enhanced` / `.image_created` / `.video_created`; and `user.signed_up`.
 */
export type AnalyticsEventName =
  | 'user.signed_up'
  | 'workflow.started'
  | 'workflow.completed'
  | 'workflow.failed'
  | 'workflow.cancelled'
  | 'node.completed'
  | 'node.failed'
  | 'node.retried'
  | 'generation.prompt_enhanced'
  | 'generation.image_created'
  | 'generation.video_created'
  | (`${string}.${string}` & {});

/** One analytics event to record. */
export interface AnalyticsEvent {
  readonly name: AnalyticsEventName;
  /** Whom it concerns (null for the system). */
  readonly userId: string | null;
  /** Ids, counts, durations, costs, providers. Never a secret nor a prompt's text: such names are refused. */
  readonly properties?: Readonly<Record<string, unknown>> | undefined;
  /** When it happened (default: the database's `now()`). */
  readonly at?: Date | undefined;
  /** An event with a key already recorded is skipped (e.g. `<runId>:<seq>:<name>` for run events). */
  readonly dedupeKey?: string | undefined;
}

/** Property names that would hold a secret or a creator's text: recording one is a bug. */
const REFUSED_NAMES =
  /^(key|api_?key|secret|password|token|authorization|cookie|plaintext|ciphertext|prompt|text|original)$/i;

function assertNoRefusedNames(value: unknown, path: string): void {
  if (value === null || typeof value !== 'object') return;
  for (const [name, inner] of Object.entries(value)) {
    if (REFUSED_NAMES.test(name)) {
      throw new TypeError(
        `Analytics properties must hold no secret nor prompt text: "${path}${name}" refused.`,
      );
    }
    assertNoRefusedNames(inner, `${path}${name}.`);
  }
}

/**
 * Appends analytics events to `analytics_events`, all in one statement (nothing for an empty
 * list; events whose `dedupeKey` is already recorded are skipped). Pass the transaction when the event belongs to a change (sign-up), so both commit or
 * neither does. Throws `TypeError` for a property named like a secret or a prompt's text.
 *
 * @example
 * ```ts
 * import { migrateToLatest, openDatabase, recordAnalyticsEvents } from '@vidgenie/server';
 * const { db, close } = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
 * await migrateToLatest(db);
 * await recordAnalyticsEvents(db, [{ name: 'workflow.started', userId: null, properties: { estimatedCost: 14 } }]);
 * await close();
 * ```
 */
export async function recordAnalyticsEvents(
  db: Kysely<DB>,
  events: readonly AnalyticsEvent[],
): Promise<void> {
  if (events.length === 0) return;
  for (const event of events) assertNoRefusedNames(event.properties ?? {}, '');
  await db
    .insertInto('analytics_events')
    .values(
      events.map((event) => ({
        id: newId('evt'),
        user_id: event.userId,
        name: event.name,
        // jsonb refuses U+0000 (a provider's model name could hold one): stored as U+FFFD.
        properties: JSON.stringify(event.properties ?? {}, (_key, value: unknown) =>
          typeof value === 'string' ? value.replaceAll('\u0000', '\uFFFD') : value,
        ),
        dedupe_key: event.dedupeKey ?? null,
        ...(event.at === undefined ? {} : { created_at: event.at }),
      })),
    )
    .onConflict((conflict) => conflict.column('dedupe_key').doNothing())
    .execute();
}

/**
 * Appends one analytics event; see {@link recordAnalyticsEvents}.
 *
 * @example
 * ```ts
 * import { migrateToLatest, openDatabase, recordAnalyticsEvent } from '@vidgenie/server';
 * const { db, close } = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
 * await migrateToLatest(db);
 * await recordAnalyticsEvent(db, { name: 'user.signed_up', userId: null, properties: { plan: 'free' } });
 * await close();
 * ```
 */
export function recordAnalyticsEvent(db: Kysely<DB>, event: AnalyticsEvent): Promise<void> {
  return recordAnalyticsEvents(db, [event]);
}
